package store

import (
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pressly/goose/v3"
)

// sealAsBefore00013 seals the pending events, oldest id first, the way the
// sealer did before migration 00013: audit_seal sets their chain columns.
// It returns how many it sealed.
func sealAsBefore00013(t *testing.T, s *Store, max int) int {
	t.Helper()
	ctx := t.Context()
	rows, err := s.pool.Query(ctx, `SELECT id, occurred_at, actor_type, actor_id, actor_name, action, outcome, app_id,
		target_type, target_id, request_id, client_ip, user_agent, details::text, token_fingerprint, project_id, canonical_version
		FROM audit_events WHERE hash IS NULL ORDER BY id LIMIT $1`, max)
	if err != nil {
		t.Fatal(err)
	}
	events, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (AuditEvent, error) {
		var e AuditEvent
		err := r.Scan(&e.ID, &e.OccurredAt, &e.ActorType, &e.ActorID, &e.ActorName, &e.Action, &e.Outcome, &e.AppID,
			&e.TargetType, &e.TargetID, &e.RequestID, &e.ClientIP, &e.UserAgent, (*[]byte)(&e.Details), &e.TokenFingerprint,
			&e.ProjectID, &e.CanonicalVersion)
		return e, err
	})
	if err != nil {
		t.Fatal(err)
	}
	var tip int64
	prev := genesisHash
	if err := s.pool.QueryRow(ctx, `SELECT chain_seq, hash FROM audit_events WHERE chain_seq IS NOT NULL
		ORDER BY chain_seq DESC LIMIT 1`).Scan(&tip, &prev); err != nil && err != pgx.ErrNoRows {
		t.Fatal(err)
	}
	keys, err := s.macKeys()
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	var hashes [][]byte
	for i := range events {
		prev = auditHash(prev, tip+int64(i)+1, &events[i])
		ids, hashes = append(ids, events[i].ID), append(hashes, prev)
	}
	end := tip + int64(len(ids))
	if _, err := s.pool.Exec(ctx, `SELECT audit_seal($1, $2, $3, $4, $5)`, tip, ids, hashes,
		checkpointMAC(keys[0], "head", end, prev), checkpointMAC(keys[0], "periodic", end, prev)); err != nil {
		t.Fatal(err)
	}
	return len(ids)
}

// trailAt00012 migrates an empty database to 00012 with one project
// (AppID 1001) and gives insert, which writes an event about it at a time
// with text in its details, in the layout of 00012.
func trailAt00012(t *testing.T) (s *Store, p *goose.Provider, insert func(at time.Time, text string)) {
	t.Helper()
	ctx := t.Context()
	s, p = unmigrated(t)
	if _, err := p.UpTo(ctx, 12); err != nil {
		t.Fatalf("up to 00012: %v", err)
	}
	var project int64
	mustScan(t, s.pool.QueryRow(ctx, `INSERT INTO projects (app_id, name, default_ttl_seconds, max_ttl_seconds)
		VALUES (1001, 'A', 60, 60) RETURNING id`), &project)
	return s, p, func(at time.Time, text string) {
		t.Helper()
		mustExec(t, ctx, s.pool, `INSERT INTO audit_events (occurred_at, actor_type, actor_name, action, outcome, app_id, project_id, details)
			VALUES ($1, 'operator', 'alice', 'token.issue', 'success', 1001, $2, jsonb_build_object('user_id', $3::text))`,
			at, project, text)
	}
}

func TestMigration00013_ATrailSealedInItsRowsVerifiesFromTheChainTableAndFindsItsText(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s, p, insertAt := trailAt00012(t)
	insert := func(i int, text string) {
		t.Helper()
		insertAt(time.Date(2025, 1, 1, 0, i, 0, 0, time.UTC), text)
	}
	for i := range 25 {
		insert(i, "student-"+strings.Repeat("x", i%3))
	}
	insert(25, "sealed-needle")
	if sealAsBefore00013(t, s, 10) != 10 || sealAsBefore00013(t, s, 100) != 16 {
		t.Fatal("seal before 00013: want 10 then 16 events")
	}
	insert(26, "pending-needle") // two events wait for their seal
	insert(27, "student-y")

	if _, err := p.Up(ctx); err != nil {
		t.Fatalf("up from 00012: %v", err)
	}
	r, err := s.VerifyAuditChain(ctx)
	if err != nil || !r.OK || r.Events != 26 || r.Checkpoints != 2 {
		t.Fatalf("verify after 00013: got %+v, %v; want the 26 sealed events and 2 checkpoints verified", r, err)
	}
	for _, needle := range []string{"sealed-needle", "pending-needle"} {
		page, err := s.ListAudit(ctx, AuditFilter{Text: needle, From: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}, "", 10)
		if err != nil || len(page.Events) != 1 || !strings.Contains(string(page.Events[0].Details), needle) {
			t.Errorf("free text %q after 00013: got %d events (%v), want its event", needle, len(page.Events), err)
		}
	}
	if n, err := s.SealPending(ctx, 0); err != nil || n != 2 {
		t.Fatalf("seal the pending events after 00013: got %d, %v; want 2", n, err)
	}
	if r, err := s.VerifyAuditChain(ctx); err != nil || !r.OK || r.Events != 28 {
		t.Fatalf("verify after sealing: got %+v, %v; want 28 events", r, err)
	}
	page, err := s.ListAudit(ctx, AuditFilter{Text: "pending-needle", From: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}, "", 10)
	if err != nil || len(page.Events) != 1 || page.Events[0].ChainSeq == nil || *page.Events[0].ChainSeq != 27 {
		t.Fatalf("the event sealed after 00013: got %+v (%v), want it at seq 27 and found by its text", page.Events, err)
	}

	// And back: the chain columns return with every position.
	if _, err := p.DownTo(ctx, 12); err != nil {
		t.Fatalf("down to 00012: %v", err)
	}
	var sealed, last int64
	mustScan(t, s.pool.QueryRow(ctx, `SELECT count(hash), max(chain_seq) FROM audit_events`), &sealed, &last)
	if sealed != 28 || last != 28 {
		t.Fatalf("after down: got %d sealed events up to seq %d, want 28 up to 28", sealed, last)
	}
	if _, err := p.Up(ctx); err != nil {
		t.Fatalf("up again: %v", err)
	}
	if r, err := s.VerifyAuditChain(ctx); err != nil || !r.OK || r.Events != 28 {
		t.Fatalf("verify after down and up: got %+v, %v; want 28 events", r, err)
	}
}

func TestMigration00013_RefusesATrailWhoseSealMarkersDisagree(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s, p := unmigrated(t)
	if _, err := p.UpTo(ctx, 12); err != nil {
		t.Fatalf("up to 00012: %v", err)
	}
	mustExec(t, ctx, s.pool, `INSERT INTO audit_events (actor_type, action, outcome) VALUES ('system', 'x.y', 'success')`)
	sealAsBefore00013(t, s, 10)
	mustExec(t, ctx, s.pool, `ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update;
		UPDATE audit_events SET sealed_at = NULL; ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_update`)
	if _, err := p.Up(ctx); err == nil || !strings.Contains(err.Error(), "console audit verify") {
		t.Fatalf("up with a seal time removed: got %v, want a refusal that says to verify", err)
	}
	var hasColumn bool
	mustScan(t, s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM information_schema.columns
		WHERE table_name = 'audit_events' AND column_name = 'chain_seq')`), &hasColumn)
	if !hasColumn {
		t.Fatal("the refused migration changed the schema")
	}
}
