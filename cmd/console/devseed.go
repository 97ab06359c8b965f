package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"time"

	"github.com/zegocloud-console/console/internal/store"
)

const devUsage = `Usage: console dev <subcommand> [flags]

Helpers for development and benchmark databases; never point them at a real one.
They run as the schema owner (CONSOLE_MIGRATE_DATABASE_URL, or DATABASE_URL when
that is unset): the seed writes sealed events and vacuums.
  seed     fill the database with synthetic projects and audit events

Run 'console dev seed --help' for its flags.`

// seedFirstAppID is the AppID of the first seeded project; the others follow.
const seedFirstAppID = 900001

func runDev(ctx context.Context, e env, args []string) error {
	return dispatch(ctx, e, args, "dev", devUsage, command{name: "seed", run: runDevSeed})
}

// seedReport is what dev seed did, printed as text or JSON.
type seedReport struct {
	Events        int     `json:"events"`
	Projects      []int64 `json:"app_ids"`
	Seal          string  `json:"seal"`
	CopySeconds   float64 `json:"copy_seconds"`
	SealSeconds   float64 `json:"seal_seconds,omitempty"`
	IndexSeconds  float64 `json:"index_seconds,omitempty"` // the text indexer after the sealer
	EventsPerSec  float64 `json:"events_per_second"`
	VacuumSeconds float64 `json:"vacuum_seconds,omitempty"`
}

func runDevSeed(ctx context.Context, e env, args []string) error {
	fs := flag.NewFlagSet("console dev seed", flag.ContinueOnError)
	events := fs.Int("events", 100000, "number of audit `events` to add")
	projects := fs.Int("projects", 20, fmt.Sprintf("number of `projects` the events concern (AppIDs %d, %d, …; created when missing)", seedFirstAppID, seedFirstAppID+1))
	days := fs.Int("days", 90, "spread the events over this many `days` up to now (or --end)")
	endFlag := fs.String("end", "", "spread them up to this `date` (YYYY-MM-DD, UTC midnight, in the past) instead of now: a past month to prune")
	seal := fs.String("seal", "chain", "`how` to seal: chain (compute the chain while copying) or sealer (copy unsealed, then run the normal sealer)")
	seed := fs.Uint64("seed", 1, "random `seed`: the same seed makes the same events")
	workers := fs.Int("workers", 2, "database `connections` that copy at once (the trigram index makes each insert CPU-bound)")
	vacuum := fs.Bool("vacuum", true, "VACUUM ANALYZE the audit trail afterwards, as autovacuum would after a bulk load")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	positional, set, err := parseFlags(e, fs, args,
		"Usage: console dev seed [--events N] [--projects 20] [--days 90] [--end DATE] [--seal chain|sealer] [--json]")
	if err != nil || set["help"] {
		return err
	}
	switch {
	case len(positional) > 0:
		return usageError("dev seed: unexpected argument %q", positional[0])
	case *events < 0 || *projects < 1 || *projects > 1000 || *days < 1 || *workers < 1 || *workers > 16:
		return usageError("dev seed: want --events >= 0, --projects from 1 to 1000, --days >= 1 and --workers from 1 to 16")
	case *seal != "chain" && *seal != "sealer":
		return usageError("dev seed: --seal %q: want chain or sealer", *seal)
	}
	end := time.Now()
	if *endFlag != "" {
		t, err := time.Parse(time.DateOnly, *endFlag)
		if err != nil || !t.Before(end) {
			return usageError("dev seed: --end %q: want a date in the past, YYYY-MM-DD", *endFlag)
		}
		end = t
	}
	st, _, err := openOwnerStore(ctx, e, "console dev seed", true)
	if err != nil {
		return err
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		return err
	}
	appIDs, err := st.SeedProjects(ctx, seedFirstAppID, *projects, cliActor)
	if err != nil {
		return fmt.Errorf("dev seed: %w", err)
	}
	gen := store.NewSeedGenerator(*seed, appIDs, *events, time.Duration(*days)*24*time.Hour, end)
	r := seedReport{Events: *events, Seal: *seal}
	for _, id := range appIDs {
		r.Projects = append(r.Projects, int64(id))
	}
	start := time.Now()
	switch {
	case *seal == "chain" && *endFlag != "":
		// A past: it comes first in the chain; the projects' creation after it.
		if err = st.SeedAuditEventsFirst(ctx, *events, *workers, gen.Event); err == nil {
			err = sealEverything(ctx, st)
		}
	case *seal == "chain":
		err = st.SeedAuditEvents(ctx, *events, *workers, gen.Event)
	default:
		err = st.SeedAuditEventsUnsealed(ctx, *events, gen.Event)
	}
	if err != nil {
		return fmt.Errorf("dev seed: %w", err)
	}
	r.CopySeconds = time.Since(start).Seconds()
	if *seal == "sealer" {
		sealStart := time.Now()
		if err := sealEverything(ctx, st); err != nil {
			return fmt.Errorf("dev seed: %w", err)
		}
		r.SealSeconds = time.Since(sealStart).Seconds()
		indexStart := time.Now()
		if _, err := st.IndexAuditText(ctx); err != nil {
			return fmt.Errorf("dev seed: %w", err)
		}
		r.IndexSeconds = time.Since(indexStart).Seconds()
	}
	if total := r.CopySeconds + r.SealSeconds + r.IndexSeconds; total > 0 {
		r.EventsPerSec = float64(*events) / total
	}
	if *vacuum {
		vacStart := time.Now()
		if _, err := st.Pool().Exec(ctx, `VACUUM (ANALYZE) audit_events, audit_chain, audit_text, audit_unsealed`); err != nil {
			return fmt.Errorf("dev seed: vacuum: %w", err)
		}
		r.VacuumSeconds = time.Since(vacStart).Seconds()
	}
	if *asJSON {
		return json.NewEncoder(e.stdout).Encode(r)
	}
	fmt.Fprintf(e.stdout, "seeded %d audit events across %d projects (AppIDs %d..%d) in %.1f s", r.Events, len(appIDs),
		appIDs[0], appIDs[len(appIDs)-1], r.CopySeconds)
	if r.SealSeconds > 0 {
		fmt.Fprintf(e.stdout, ", sealed by the sealer in %.1f s, made searchable in %.1f s", r.SealSeconds, r.IndexSeconds)
	}
	fmt.Fprintf(e.stdout, ": %.0f events/s\n", r.EventsPerSec)
	return nil
}

// sealEverything runs the normal sealing path until nothing is pending
// (SealPending also returns 0 while another instance holds the seal lock).
func sealEverything(ctx context.Context, st *store.Store) error {
	for {
		n, err := st.SealPending(ctx, 1000)
		if err != nil {
			return err
		}
		if n > 0 {
			continue
		}
		pending, _, err := st.SealLag(ctx)
		if err != nil || pending == 0 {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}
