package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/zegocloud-console/console/internal/pgtest"
	"github.com/zegocloud-console/console/internal/store"
)

// auditCLIResult is what one in-process run of the console left behind.
type auditCLIResult struct {
	code           int
	stdout, stderr string
}

// runAuditCLI runs the command line in-process with the given environment.
func runAuditCLI(t *testing.T, environ map[string]string, args ...string) auditCLIResult {
	t.Helper()
	var stdout, stderr bytes.Buffer
	e := env{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr,
		getenv: func(k string) string { return environ[k] }}
	code := exitCode(run(t.Context(), e, args), &stderr)
	return auditCLIResult{code, stdout.String(), stderr.String()}
}

// auditCLI is a database with events and the environment that points the
// console at it: DATABASE_URL is the runtime role, the store too.
type auditCLI struct {
	db      pgtest.DB
	environ map[string]string
	st      *store.Store
}

func setupAuditCLI(t *testing.T) auditCLI {
	t.Helper()
	return setupAuditCLIWith(t, 12)
}

// setupAuditCLIWith is setupAuditCLI with n events.
func setupAuditCLIWith(t *testing.T, n int) auditCLI {
	t.Helper()
	ctx := t.Context()
	db := pgtest.New(t)
	raw := bytes.Repeat([]byte{5}, 32)
	keys, err := store.NewKeyring(raw)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, db.RuntimeURL, keys)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	for i := range n {
		if err := st.Audit(ctx, store.Event{Actor: store.Actor{Type: store.ActorSystem, Name: "test"},
			Action: "token.issue", Outcome: store.OutcomeSuccess, Details: map[string]any{"i": i}}); err != nil {
			t.Fatal(err)
		}
	}
	return auditCLI{db: db, st: st, environ: map[string]string{
		"DATABASE_URL": db.RuntimeURL, "CONSOLE_MASTER_KEY": base64.StdEncoding.EncodeToString(raw),
	}}
}

// tamper edits the event at seq 4 as the database superuser.
func (a auditCLI) tamper(t *testing.T) {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), a.db.SuperuserURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.WithoutCancel(t.Context()))
	if _, err := conn.Exec(t.Context(), `SET session_replication_role = replica;
		UPDATE audit_events SET actor_name = 'mallory' WHERE id = (SELECT event_id FROM audit_chain WHERE chain_seq = 4)`); err != nil {
		t.Fatal(err)
	}
}

func TestAuditCLI_VerifyExitCodes(t *testing.T) {
	t.Parallel()
	a := setupAuditCLI(t)
	if r := runAuditCLI(t, a.environ, "audit", "seal"); r.code != 0 || r.stdout != "sealed 12 events\n" {
		t.Fatalf("audit seal: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	r := runAuditCLI(t, a.environ, "audit", "verify")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "audit trail intact: 12 events verified (seq 1..12)") {
		t.Fatalf("verify of an intact trail: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	a.tamper(t)
	r = runAuditCLI(t, a.environ, "audit", "verify")
	if r.code != 1 || !strings.Contains(r.stderr, "BROKEN at seq 4 (hash_mismatch)") || r.stdout != "" {
		t.Fatalf("verify of a tampered trail: exit %d, stdout %q, stderr %q; want 1 and the break", r.code, r.stdout, r.stderr)
	}
	r = runAuditCLI(t, a.environ, "audit", "verify", "--json")
	var rep store.VerifyReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || r.code != 1 || rep.OK || rep.BreakSeq != 4 || rep.BreakKind != store.BreakHash {
		t.Fatalf("verify --json: exit %d, stdout %q (%v)", r.code, r.stdout, err)
	}
}

func TestAuditCLI_VerifyUsesTheConfiguredAuditKey(t *testing.T) {
	t.Parallel()
	a := setupAuditCLI(t)
	a.environ["CONSOLE_AUDIT_KEY"] = base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{6}, 32))
	if r := runAuditCLI(t, a.environ, "audit", "seal"); r.code != 0 {
		t.Fatalf("seal: exit %d, %s", r.code, r.stderr)
	}
	if r := runAuditCLI(t, a.environ, "audit", "verify"); r.code != 0 {
		t.Fatalf("verify with the audit key: exit %d, %s", r.code, r.stderr)
	}
	// Without the key that signed them, the checkpoints do not verify.
	delete(a.environ, "CONSOLE_AUDIT_KEY")
	if r := runAuditCLI(t, a.environ, "audit", "verify"); r.code != 1 || !strings.Contains(r.stderr, "bad_mac") {
		t.Fatalf("verify without the audit key: exit %d, stderr %q; want 1 and a bad MAC", r.code, r.stderr)
	}
	a.environ["CONSOLE_AUDIT_KEY"] = "short"
	if r := runAuditCLI(t, a.environ, "audit", "verify"); r.code != 2 || !strings.Contains(r.stderr, "CONSOLE_AUDIT_KEY") {
		t.Fatalf("verify with a bad audit key: exit %d, stderr %q; want 2", r.code, r.stderr)
	}
}

func TestAuditCLI_PruneRunsAsTheOwnerAndNeedsYes(t *testing.T) {
	t.Parallel()
	a := setupAuditCLI(t)
	if _, err := a.st.SealPending(t.Context(), 100); err != nil {
		t.Fatal(err)
	}
	if r := runAuditCLI(t, a.environ, "audit", "verify"); r.code != 0 || !strings.Contains(r.stdout, "12 events verified") {
		t.Fatalf("verify after sealing as the runtime role: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	before := time.Now().Add(time.Second).UTC().Format(time.RFC3339)
	time.Sleep(1100 * time.Millisecond)
	// DATABASE_URL alone is the runtime role, which may not delete events.
	r := runAuditCLI(t, a.environ, "audit", "prune", "--before", before, "--yes")
	if r.code != 2 || !strings.Contains(r.stderr, "CONSOLE_MIGRATE_DATABASE_URL") || r.stdout != "" {
		t.Fatalf("prune as the runtime role: exit %d, stdout %q, stderr %q; want 2 naming CONSOLE_MIGRATE_DATABASE_URL", r.code, r.stdout, r.stderr)
	}
	a.environ["CONSOLE_MIGRATE_DATABASE_URL"] = a.db.OwnerURL
	r = runAuditCLI(t, a.environ, "audit", "prune", "--before", before)
	if r.code != 2 || !strings.Contains(r.stdout, "would delete 12 sealed events") || !strings.Contains(r.stderr, "--yes") {
		t.Fatalf("prune without --yes: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	r = runAuditCLI(t, a.environ, "audit", "prune", "--before", before, "--yes")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "deleted 12 events") {
		t.Fatalf("prune --yes: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if r := runAuditCLI(t, a.environ, "audit", "verify"); r.code != 0 || !strings.Contains(r.stdout, "1 events verified (seq 13..13)") {
		t.Fatalf("verify after prune: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	for _, args := range [][]string{
		{"audit", "prune"},
		{"audit", "prune", "--before", "yesterday"},
		{"audit", "prune", "--before", "2999-01-01", "--yes"},
		{"audit", "verify", "extra"},
		{"audit", "bogus"},
		{"audit"},
	} {
		if r := runAuditCLI(t, a.environ, args...); r.code != 2 {
			t.Errorf("%v: exit %d, want 2 (stderr %q)", args, r.code, r.stderr)
		}
	}
}

func TestAuditCLI_PruneOnTheFirstOfAMonthDropsTheMonthBeforeAndTheRestVerifies(t *testing.T) {
	t.Parallel()
	a := setupAuditCLIWith(t, 0)
	ctx := t.Context()
	now := time.Now().UTC()
	thisMonth := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	lastMonth := thisMonth.AddDate(0, -1, 0)
	owner, err := pgx.Connect(ctx, a.db.OwnerURL)
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close(ctx)
	// What the dev seed does for a past month: its partitions, then its events.
	if _, err := owner.Exec(ctx, `SELECT audit_partitions_cover($1, $1)`, lastMonth); err != nil {
		t.Fatal(err)
	}
	if _, err := owner.Exec(ctx, `INSERT INTO audit_events (occurred_at, actor_type, actor_name, action, outcome)
		SELECT $1::timestamptz + i * interval '1 hour', 'system', 'test', 'token.issue', 'success' FROM generate_series(0, 29) AS i`,
		lastMonth); err != nil {
		t.Fatal(err)
	}
	a.environ["CONSOLE_MIGRATE_DATABASE_URL"] = a.db.OwnerURL
	if r := runAuditCLI(t, a.environ, "audit", "seal"); r.code != 0 {
		t.Fatalf("seal: exit %d, stderr %q", r.code, r.stderr)
	}
	for i := range 12 {
		if err := a.st.Audit(ctx, store.Event{Actor: store.Actor{Type: store.ActorSystem, Name: "test"},
			Action: "token.issue", Outcome: store.OutcomeSuccess, Details: map[string]any{"i": i}}); err != nil {
			t.Fatal(err)
		}
	}
	r := runAuditCLI(t, a.environ, "audit", "prune", "--before", thisMonth.Format(time.DateOnly), "--yes")
	wantMonths := "whole months dropped as partitions: " + lastMonth.Format("2006-01") + " (30 events); deleted row by row: 0 events"
	if r.code != 0 || !strings.HasPrefix(r.stdout, "deleted 30 events") || !strings.Contains(r.stdout, wantMonths) {
		t.Fatalf("prune --before the 1st: exit %d, stdout %q, stderr %q; want the 30 events of last month dropped with its partitions", r.code, r.stdout, r.stderr)
	}
	var left int
	if err := owner.QueryRow(ctx, `SELECT count(*) FROM pg_class WHERE relname = $1`, "audit_events_p"+lastMonth.Format("200601")).Scan(&left); err != nil || left != 0 {
		t.Errorf("last month's partition after the prune: %d tables (%v), want none", left, err)
	}
	if r := runAuditCLI(t, a.environ, "audit", "verify"); r.code != 0 || !strings.Contains(r.stdout, "13 events verified") {
		t.Fatalf("verify after the prune: exit %d, stdout %q, stderr %q; want today's 12 and the prune event", r.code, r.stdout, r.stderr)
	}
}
