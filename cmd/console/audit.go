package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/zegocloud-console/console/internal/store"
)

const auditUsage = `Usage: console audit <subcommand> [flags]

Works on the database in DATABASE_URL. Subcommands:
  verify   recompute the hash chain: exit 0 when intact, 1 with the first break on stderr;
           --ndjson FILE checks a stream or export received elsewhere (no database),
           --anchor FILE checks that the chain still holds the anchored heads in FILE
  seal     give pending events their place in the chain now
  prune    delete events older than a date, leaving a signed checkpoint in their place;
           whole months go as partitions (a cut-off on the 1st of a month deletes no row
           one by one), the events of a partial month row by row;
           as the schema owner (CONSOLE_MIGRATE_DATABASE_URL), since the runtime role may not

Run 'console audit <subcommand> --help' for its flags.`

func runAudit(ctx context.Context, e env, args []string) error {
	return dispatch(ctx, e, args, "audit", auditUsage, command{name: "verify", run: runAuditVerify},
		command{name: "seal", run: runAuditSeal}, command{name: "prune", run: runAuditPrune})
}

func runAuditVerify(ctx context.Context, e env, args []string) error {
	fs := flag.NewFlagSet("console audit verify", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print the report as one JSON object")
	ndjson := fs.String("ndjson", "", "check this NDJSON `file` of events (a sink's stream, an export; - for stdin) instead of the database; "+
		"anchors' MACs too when CONSOLE_AUDIT_KEY or CONSOLE_MASTER_KEY is set")
	anchorFile := fs.String("anchor", "", "also check that the chain still holds the head of each audit.anchor event in this `file`")
	positional, set, err := parseFlags(e, fs, args, "Usage: console audit verify [--json] [--ndjson FILE | --anchor FILE]")
	if err != nil || set["help"] {
		return err
	}
	if len(positional) > 0 {
		return usageError("audit verify: unexpected argument %q", positional[0])
	}
	if *ndjson != "" && *anchorFile != "" {
		return usageError("audit verify: --ndjson checks a file without the database, --anchor the database against a file: give one")
	}
	if *ndjson != "" {
		return verifyNDJSON(e, *ndjson, *asJSON)
	}
	var anchors []store.Anchor
	if *anchorFile != "" {
		if anchors, err = readAnchors(e, *anchorFile); err != nil {
			return usageError("audit verify: --anchor: %v", err)
		}
	}
	st, _, err := openStore(ctx, e)
	if err != nil {
		return err
	}
	defer st.Close()
	r, err := st.VerifyAuditChain(ctx)
	if err != nil {
		return err
	}
	if r.OK && anchors != nil {
		ar, err := st.CheckAnchors(ctx, anchors)
		if err != nil {
			return err
		}
		if !ar.OK {
			r.OK, r.BreakSeq, r.BreakKind, r.Message = false, ar.BreakSeq, ar.BreakKind, ar.Message
		} else {
			r.Message += "; " + ar.Message
		}
	}
	if *asJSON {
		if err := json.NewEncoder(e.stdout).Encode(r); err != nil {
			return err
		}
	} else if r.OK {
		fmt.Fprintf(e.stdout, "audit trail intact: %s\n", r.Message)
		if n, oldest, err := st.SealLag(ctx); err == nil && n > 0 {
			fmt.Fprintf(e.stdout, "%d newer events await their seal (oldest %s): run 'console audit seal' or wait for the server\n",
				n, oldest.Round(time.Millisecond))
		}
	}
	if !r.OK {
		return &exitError{code: 1, err: fmt.Errorf("audit trail BROKEN at seq %d (%s): %s", r.BreakSeq, r.BreakKind, r.Message)}
	}
	return nil
}

func runAuditSeal(ctx context.Context, e env, args []string) error {
	fs := flag.NewFlagSet("console audit seal", flag.ContinueOnError)
	positional, set, err := parseFlags(e, fs, args, "Usage: console audit seal")
	if err != nil || set["help"] {
		return err
	}
	if len(positional) > 0 {
		return usageError("audit seal: unexpected argument %q", positional[0])
	}
	st, _, err := openStore(ctx, e)
	if err != nil {
		return err
	}
	defer st.Close()
	total := 0
	for {
		n, err := st.SealPending(ctx, 1000)
		if err != nil {
			return err
		}
		total += n
		if n < 1000 {
			break
		}
	}
	fmt.Fprintf(e.stdout, "sealed %d events\n", total)
	if n, _, err := st.SealLag(ctx); err == nil && n > 0 {
		fmt.Fprintf(e.stdout, "%d events still pending: another instance is sealing them\n", n)
	}
	return nil
}

func runAuditPrune(ctx context.Context, e env, args []string) error {
	fs := flag.NewFlagSet("console audit prune", flag.ContinueOnError)
	beforeFlag := fs.String("before", "", "delete events that occurred before this `time`: RFC 3339 or a date (YYYY-MM-DD, UTC midnight)")
	yes := fs.Bool("yes", false, "really delete; without it, only say how many events would go")
	positional, set, err := parseFlags(e, fs, args, "Usage: console audit prune --before DATE [--yes]\n\n"+
		"Runs as the schema owner: CONSOLE_MIGRATE_DATABASE_URL, or DATABASE_URL when that is unset.\n"+
		"Whole months before the cut-off go by dropping their partitions; the events of a month the\n"+
		"cut-off falls within are deleted row by row: a cut-off on the 1st of a month (UTC) is the fast one.")
	if err != nil || set["help"] {
		return err
	}
	if len(positional) > 0 {
		return usageError("audit prune: unexpected argument %q", positional[0])
	}
	before, err := parsePruneBefore(*beforeFlag)
	if err != nil {
		return usageError("audit prune: --before: %v", err)
	}
	st, _, err := openOwnerStore(ctx, e, "console audit prune", true)
	if err != nil {
		return err
	}
	defer st.Close()
	at := before.Format(time.RFC3339)
	if !*yes {
		n, through, err := st.AuditPrunePreview(ctx, before)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "would delete %d sealed events that occurred before %s (chain seq up to %d)\n", n, at, through)
		return usageError("audit prune: nothing deleted: run again with --yes to delete them")
	}
	r, err := st.PruneAuditReport(ctx, before, store.Actor{Type: store.ActorCLI, Name: "cli"},
		store.Origin{UserAgent: "console audit prune"})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "deleted %d events that occurred before %s; a signed prune checkpoint keeps the rest verifiable\n", r.Deleted, at)
	months := "none"
	if len(r.DroppedMonths) > 0 {
		months = strings.Join(r.DroppedMonths, ", ")
	}
	fmt.Fprintf(e.stdout, "whole months dropped as partitions: %s (%d events); deleted row by row: %d events\n",
		months, r.AsPartitions, r.Deleted-r.AsPartitions)
	fmt.Fprintf(e.stdout, "verified the chain first in %.3f s; pruned in %.3f s\n", r.Verify.Seconds(), r.Prune.Seconds())
	if r.DropErr != nil {
		fmt.Fprintf(e.stderr, "warning: the dropped months are out of the trail, but their tables are still there: %v; the next prune drops them\n", r.DropErr)
	} else if len(r.DroppedMonths) > 0 {
		fmt.Fprintf(e.stdout, "the dropped months' files removed afterwards in %.3f s, the trail not locked\n", r.Drop.Seconds())
	}
	return nil
}

// parsePruneBefore reads --before; it must lie in the past.
func parsePruneBefore(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, errors.New("required (RFC 3339 or YYYY-MM-DD)")
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		if t, err = time.Parse(time.DateOnly, s); err != nil {
			return time.Time{}, fmt.Errorf("%q is neither RFC 3339 (2024-05-01T00:00:00Z) nor a date (2024-05-01)", s)
		}
	}
	if !t.Before(time.Now()) {
		return time.Time{}, fmt.Errorf("%s is not in the past", t.UTC().Format(time.RFC3339))
	}
	return t.UTC(), nil
}
