// Command loadgen measures the console: it drives the token issue API at a
// fixed concurrency and checks what the database recorded, runs the same SQL
// straight through pgx for the database's ceiling, times audit pages and
// exports, and writes the benchmark report. It only ever talks to the URLs
// it is given: point it at consoles on this machine.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

const usage = `Usage: loadgen [mode] [flags]

Modes (default: the issue load run):
  (none)         POST /api/v1/projects/{appId}/tokens at --concurrency for --duration or --requests,
                 then (given DATABASE_URL) check records and audit events against the 201s
  --batch N      the issue load run through POST …/tokens/batch, N tokens per request
  --ceiling      the issue path's SQL straight through pgx at the same concurrency (DATABASE_URL)
  --setup        create projects (--app-ids) and an API key (--scopes); prints the key
                 (DATABASE_URL, CONSOLE_MASTER_KEY)
  --wait-ready   poll --url/readyz; print milliseconds since --since-ns
  --audit        time audit pages (first and deep) for a matrix of filters
  --export FMT   stream the audit export (csv or ndjson) of --app-id
  --report DIR   write the Markdown report from the results in DIR to stdout

Flags:`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "loadgen:", err)
		}
		os.Exit(1)
	}
}

// flags are every option of every mode.
type flags struct {
	urls, key, dbURL, masterKey, appIDs, scopes, name, pids, export, report string
	appID                                                                   uint
	concurrency, requests, auditRequests, auditDeep, batch                  int
	duration, timeout, auditBudget, readyTimeout                            time.Duration
	sinceNS                                                                 int64
	asJSON, ceiling, ceilingAuth, setup, waitReady, audit, strict, revoke   bool
	auditAction, auditActor, auditText                                      string
}

func parse(args []string, stderr io.Writer, getenv func(string) string) (*flags, error) {
	f := &flags{}
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, usage); fs.PrintDefaults() }
	fs.StringVar(&f.urls, "url", "http://127.0.0.1:8080", "console base `URLs`, comma-separated: requests go round-robin")
	fs.StringVar(&f.key, "key", getenv("LOADGEN_API_KEY"), "API `key` (default $LOADGEN_API_KEY)")
	fs.StringVar(&f.dbURL, "database-url", getenv("DATABASE_URL"), "the console's database (default $DATABASE_URL)")
	fs.StringVar(&f.masterKey, "master-key", getenv("CONSOLE_MASTER_KEY"), "the console's master key for --setup (default $CONSOLE_MASTER_KEY)")
	fs.UintVar(&f.appID, "app-id", 4242, "`AppID` of the project to issue for, browse or export")
	fs.IntVar(&f.concurrency, "concurrency", 32, "concurrent workers, each with one request in flight")
	fs.DurationVar(&f.duration, "duration", 20*time.Second, "how long to start new requests (0: until --requests)")
	fs.IntVar(&f.requests, "requests", 0, "stop after this many requests (0: until --duration)")
	fs.DurationVar(&f.timeout, "timeout", 30*time.Second, "per-request timeout")
	fs.StringVar(&f.pids, "pid", "", "console process `ids`, comma-separated, whose memory to sample during the run")
	fs.BoolVar(&f.asJSON, "json", false, "print the result as JSON")
	fs.BoolVar(&f.strict, "strict", false, "exit 1 when any request failed or the database check does not match")
	fs.IntVar(&f.batch, "batch", 0, "issue this many tokens per request through /tokens/batch (0: single issues)")
	fs.BoolVar(&f.ceiling, "ceiling", false, "run the issue SQL straight through pgx instead of the API")
	fs.BoolVar(&f.ceilingAuth, "ceiling-auth", false, "with --ceiling, also authenticate --key per operation, as the API does")
	fs.BoolVar(&f.setup, "setup", false, "create the projects of --app-ids and an API key; print the key")
	fs.StringVar(&f.appIDs, "app-ids", "", "with --setup: AppIDs, comma-separated or FIRST-LAST (default --app-id)")
	fs.StringVar(&f.scopes, "scopes", "issue", "with --setup: the key's scopes, comma-separated")
	fs.StringVar(&f.name, "name", "loadgen", "with --setup: the key's name")
	fs.BoolVar(&f.waitReady, "wait-ready", false, "poll --url/readyz until 200")
	fs.Int64Var(&f.sinceNS, "since-ns", 0, "with --wait-ready: when the console started, in Unix nanoseconds")
	fs.DurationVar(&f.readyTimeout, "ready-timeout", time.Minute, "with --wait-ready: give up after this long")
	fs.BoolVar(&f.audit, "audit", false, "time audit pages for a matrix of filters")
	fs.IntVar(&f.auditRequests, "audit-requests", 20, "with --audit: timed requests per page")
	fs.IntVar(&f.auditDeep, "audit-deep", 50, "with --audit: follow the cursor this many pages for the deep page")
	fs.DurationVar(&f.auditBudget, "audit-budget", time.Minute, "with --audit: time allowed per filter and path")
	fs.StringVar(&f.auditAction, "audit-action", "token.revoke", "with --audit: the action filter")
	fs.StringVar(&f.auditActor, "audit-actor", "alice", "with --audit: the actor filter")
	fs.StringVar(&f.auditText, "audit-q", "user-4242", "with --audit: the free-text filter")
	fs.StringVar(&f.export, "export", "", "stream the audit export in `format` csv or ndjson")
	fs.StringVar(&f.report, "report", "", "write the report from the results in `dir`")
	fs.BoolVar(&f.revoke, "revoke-check", false, "use --key on the last --url, revoke it in the database and time until that console refuses it")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q (see --help)", fs.Arg(0))
	}
	if f.concurrency < 1 || f.requests < 0 || f.duration < 0 || (f.duration == 0 && f.requests == 0) {
		return nil, errors.New("want --concurrency >= 1 and a --duration or a --requests count")
	}
	if f.appID == 0 || f.appID > 1<<32-1 {
		return nil, errors.New("--app-id: want a ZEGO AppID from 1 to 4294967295")
	}
	return f, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	f, err := parse(args, stderr, getenv)
	if err != nil {
		return err
	}
	switch {
	case f.report != "":
		return writeReport(stdout, f.report)
	case f.setup:
		return runSetupMode(ctx, f, stdout)
	case f.waitReady:
		targets, err := parseTargets(f.urls)
		if err != nil {
			return err
		}
		since := time.Now()
		if f.sinceNS > 0 {
			since = time.Unix(0, f.sinceNS)
		}
		d, err := waitReady(ctx, targets[0], since, f.readyTimeout)
		if err != nil {
			return err
		}
		return emit(stdout, f.asJSON, map[string]float64{"ready_ms": ms(d)}, func(w io.Writer) { fmt.Fprintf(w, "ready after %.1f ms\n", ms(d)) })
	case f.audit:
		return runAuditMode(ctx, f, stdout, stderr)
	case f.export != "":
		return runExportMode(ctx, f, stdout)
	case f.revoke:
		return runRevokeMode(ctx, f, stdout)
	}
	return runLoadMode(ctx, f, stdout)
}

// emit prints v as JSON or, for people, with text.
func emit(w io.Writer, asJSON bool, v any, text func(io.Writer)) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	text(w)
	return nil
}

func requireDB(f *flags, mode string) error {
	if f.dbURL == "" {
		return fmt.Errorf("%s needs the console's database: set DATABASE_URL or --database-url", mode)
	}
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
