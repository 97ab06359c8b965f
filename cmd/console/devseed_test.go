package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/zegocloud-console/console/internal/pgtest"
	"github.com/zegocloud-console/console/internal/store"
)

// devSeedEnv is a fresh database and the environment pointing the console at
// it: the seed runs as the owner, the returned store as the runtime role.
func devSeedEnv(t *testing.T) (map[string]string, *store.Store) {
	t.Helper()
	db := pgtest.New(t)
	raw := bytes.Repeat([]byte{6}, 32)
	keys, err := store.NewKeyring(raw)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(t.Context(), db.RuntimeURL, keys)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	return map[string]string{"DATABASE_URL": db.RuntimeURL, "CONSOLE_MIGRATE_DATABASE_URL": db.OwnerURL,
		"CONSOLE_MASTER_KEY": base64.StdEncoding.EncodeToString(raw)}, st
}

func runDevCLI(t *testing.T, environ map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	e := env{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr, getenv: func(k string) string { return environ[k] }}
	return exitCode(run(t.Context(), e, args), &stderr), stdout.String(), stderr.String()
}

func countRows(t *testing.T, st *store.Store, q string) int {
	t.Helper()
	var n int
	if err := st.Pool().QueryRow(t.Context(), q).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func TestDevSeed_ChainedEventsVerify(t *testing.T) {
	t.Parallel()
	environ, st := devSeedEnv(t)
	// Events already waiting for the sealer go first in the chain.
	if err := st.Audit(t.Context(), store.Event{Actor: store.Actor{Type: store.ActorSystem, Name: "test"},
		Action: "token.issue", Outcome: store.OutcomeSuccess, Details: map[string]any{"before": true}}); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runDevCLI(t, environ, "dev", "seed", "--events", "1000", "--projects", "3", "--json")
	if code != 0 {
		t.Fatalf("dev seed: exit %d: %s", code, errOut)
	}
	var r seedReport
	if err := json.Unmarshal([]byte(out), &r); err != nil || r.Events != 1000 || len(r.Projects) != 3 {
		t.Fatalf("got report %q (%v), want 1000 events across 3 projects", out, err)
	}
	// 1000 seeded, the one before, and a project.create for each of the 3 projects.
	if got := countRows(t, st, `SELECT count(*) FROM audit_events`); got != 1004 {
		t.Fatalf("got %d audit events, want 1004", got)
	}
	if got := countRows(t, st, `SELECT count(*) FROM audit_unsealed`); got != 0 {
		t.Errorf("got %d unsealed events, want 0", got)
	}
	if got := countRows(t, st, `SELECT count(DISTINCT app_id) FROM audit_events WHERE app_id BETWEEN 900001 AND 900003`); got != 3 {
		t.Errorf("events concern %d projects, want 3", got)
	}
	code, out, errOut = runDevCLI(t, environ, "audit", "verify")
	if code != 0 {
		t.Fatalf("audit verify after the seed: exit %d\n%s%s", code, out, errOut)
	}
	st.SetAuditMACKeys(nil)
	v, err := st.VerifyAuditChain(t.Context())
	if err != nil || !v.OK || v.Events != 1004 {
		t.Fatalf("VerifyAuditChain: got %+v, %v; want 1004 events verified", v, err)
	}
	// A second seed continues the chain, and later sealing continues it too.
	if code, _, errOut := runDevCLI(t, environ, "dev", "seed", "--events", "10", "--projects", "3", "--vacuum=false"); code != 0 {
		t.Fatalf("second seed: exit %d: %s", code, errOut)
	}
	if err := st.Audit(t.Context(), store.Event{Actor: store.Actor{Type: store.ActorSystem, Name: "test"},
		Action: "token.revoke", Outcome: store.OutcomeSuccess}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.SealPending(t.Context(), 100); err != nil {
		t.Fatal(err)
	}
	if v, err := st.VerifyAuditChain(t.Context()); err != nil || !v.OK || v.Events != 1015 {
		t.Fatalf("verify after a second seed and a seal: got %+v, %v; want 1015 events verified", v, err)
	}
}

func TestDevSeed_SealerPathSealsEverything(t *testing.T) {
	t.Parallel()
	environ, st := devSeedEnv(t)
	code, out, errOut := runDevCLI(t, environ, "dev", "seed", "--events", "1500", "--projects", "2", "--seal", "sealer", "--vacuum=false")
	if code != 0 {
		t.Fatalf("dev seed --seal sealer: exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "seeded 1500 audit events") || !strings.Contains(out, "sealed by the sealer") {
		t.Errorf("got output %q, want it to say what was seeded and sealed", out)
	}
	if got := countRows(t, st, `SELECT count(*) FROM audit_unsealed`); got != 0 {
		t.Errorf("got %d unsealed events, want 0", got)
	}
	if v, err := st.VerifyAuditChain(t.Context()); err != nil || !v.OK || v.Events != 1502 {
		t.Fatalf("verify: got %+v, %v; want 1502 events verified", v, err)
	}
}

func TestDevSeed_RefusesBadFlags(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"dev"}, {"dev", "grow"}, {"dev", "seed", "--seal", "later"},
		{"dev", "seed", "--projects", "0"}, {"dev", "seed", "extra"}} {
		if code, _, _ := runDevCLI(t, map[string]string{}, args...); code != 2 {
			t.Errorf("console %s: got exit %d, want 2", strings.Join(args, " "), code)
		}
	}
}

func TestDevSeed_APastMonthComesFirstInTheChainAndGoesWithAPruneOnTheFirst(t *testing.T) {
	t.Parallel()
	environ, _ := devSeedEnv(t)
	now := time.Now().UTC()
	first := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
	if code, _, errOut := runDevCLI(t, environ, "dev", "seed", "--events", "500", "--projects", "2", "--days", "20", "--end", first); code != 0 {
		t.Fatalf("dev seed --end %s: exit %d: %s", first, code, errOut)
	}
	code, out, errOut := runDevCLI(t, environ, "audit", "prune", "--before", first, "--yes")
	lastMonth := time.Date(now.Year(), now.Month()-1, 1, 0, 0, 0, 0, time.UTC).Format("2006-01")
	if code != 0 || !strings.HasPrefix(out, "deleted 500 events") ||
		!strings.Contains(out, "whole months dropped as partitions: "+lastMonth+" (500 events); deleted row by row: 0 events") {
		t.Fatalf("prune --before %s: exit %d, stdout %q, stderr %q; want last month's 500 seeded events dropped with its partitions", first, code, out, errOut)
	}
	// The projects' creation (2 events, made now) and the prune event remain.
	if code, out, errOut := runDevCLI(t, environ, "audit", "verify"); code != 0 || !strings.Contains(out, "3 events verified") {
		t.Fatalf("verify after the prune: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if code, _, _ := runDevCLI(t, environ, "dev", "seed", "--end", "2999-01-01"); code != 2 {
		t.Errorf("dev seed --end in the future: exit %d, want 2", code)
	}
}
