package store

import (
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func TestMigration00005_AChainSealedBeforeStillVerifiesAndOldEventsGetTheirProject(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s, p := unmigrated(t)
	if _, err := p.UpTo(ctx, 3); err != nil {
		t.Fatalf("up to 00003: %v", err)
	}
	// Before 00005: AppID 1001 names project A, then nothing, then project
	// B. Each event occurs at the given minute.
	at := func(minute int) time.Time { return time.Date(2025, 1, 1, 0, minute, 0, 0, time.UTC) }
	var a, b int64
	mustScan(t, s.pool.QueryRow(ctx, `INSERT INTO projects (app_id, name, default_ttl_seconds, max_ttl_seconds, created_at, deleted_at)
		VALUES (1001, 'A', 60, 60, $1, $2) RETURNING id`, at(0), at(20)), &a)
	mustScan(t, s.pool.QueryRow(ctx, `INSERT INTO projects (app_id, name, default_ttl_seconds, max_ttl_seconds, created_at)
		VALUES (1001, 'B', 60, 60, $1) RETURNING id`, at(30)), &b)
	events := []struct {
		minute int
		action string
		appID  *int64
		want   *int64 // the project it belongs to
	}{
		{0, "project.create", int64p(1001), &a},
		{10, "token.issue", int64p(1001), &a},
		{20, "project.delete", int64p(1001), &a},
		{25, "authz.denied", int64p(1001), nil},
		{30, "project.create", int64p(1001), &b},
		{40, "token.issue", int64p(1001), &b},
		{41, "auth.login", nil, nil},
		{42, "token.issue", int64p(2002), nil},
	}
	ids := make([]int64, len(events))
	for i, e := range events {
		mustScan(t, s.pool.QueryRow(ctx, `INSERT INTO audit_events (occurred_at, actor_type, action, outcome, app_id, details)
			VALUES ($1, 'system', $2, 'success', $3, '{"n": 1}') RETURNING id`, at(e.minute), e.action, e.appID), &ids[i])
	}
	sealAsBefore00005(t, s)

	if _, err := p.Up(ctx); err != nil {
		t.Fatalf("up from 00003: %v", err)
	}
	if r, err := s.VerifyAuditChain(ctx); err != nil || !r.OK || r.Events != int64(len(events)) {
		t.Fatalf("verify after 00005: got %+v, %v; want the %d events verified", r, err, len(events))
	}
	for i, e := range events {
		var got *int64
		var version int16
		mustScan(t, s.pool.QueryRow(ctx, `SELECT project_id, canonical_version FROM audit_events WHERE id = $1`, ids[i]), &got, &version)
		if (got == nil) != (e.want == nil) || got != nil && *got != *e.want || version != 1 {
			t.Errorf("%s at minute %d: got project %v, layout %d; want project %v, layout 1", e.action, e.minute, deref(got), version, deref(e.want))
		}
	}

	// Events written since are in layout 2 and verify along the old ones.
	if err := s.Audit(ctx, Event{Actor: testActor, Action: "token.issue", Outcome: OutcomeSuccess, AppID: 1001}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SealPending(ctx, 0); err != nil {
		t.Fatal(err)
	}
	var project *int64
	var version int16
	mustScan(t, s.pool.QueryRow(ctx, `SELECT project_id, canonical_version FROM audit_events ORDER BY id DESC LIMIT 1`), &project, &version)
	if project == nil || *project != b || version != 2 {
		t.Fatalf("an event written after 00005: got project %v, layout %d; want %d, 2", deref(project), version, b)
	}
	if r, err := s.VerifyAuditChain(ctx); err != nil || !r.OK || r.Events != int64(len(events)+1) {
		t.Fatalf("verify with a new event: got %+v, %v; want %d events verified", r, err, len(events)+1)
	}
}

// sealAsBefore00005 seals every pending event the way the sealer did before
// migration 00005: layout 1, through audit_seal.
func sealAsBefore00005(t *testing.T, s *Store) {
	t.Helper()
	ctx := t.Context()
	rows, err := s.pool.Query(ctx, `SELECT id, occurred_at, actor_type, actor_id, actor_name, action, outcome, app_id,
		target_type, target_id, request_id, client_ip, user_agent, details::text, token_fingerprint
		FROM audit_events ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	events, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (AuditEvent, error) {
		e := AuditEvent{CanonicalVersion: 1}
		err := r.Scan(&e.ID, &e.OccurredAt, &e.ActorType, &e.ActorID, &e.ActorName, &e.Action, &e.Outcome, &e.AppID,
			&e.TargetType, &e.TargetID, &e.RequestID, &e.ClientIP, &e.UserAgent, (*[]byte)(&e.Details), &e.TokenFingerprint)
		return e, err
	})
	if err != nil {
		t.Fatal(err)
	}
	keys, err := s.macKeys()
	if err != nil {
		t.Fatal(err)
	}
	prev := genesisHash
	var ids []int64
	var hashes [][]byte
	for i := range events {
		prev = auditHash(prev, int64(i+1), &events[i])
		ids, hashes = append(ids, events[i].ID), append(hashes, prev)
	}
	if _, err := s.pool.Exec(ctx, `SELECT audit_seal(0, $1, $2, $3, NULL)`, ids, hashes,
		checkpointMAC(keys[0], "head", int64(len(ids)), prev)); err != nil {
		t.Fatal(err)
	}
}

func mustScan(t *testing.T, row pgx.Row, dst ...any) {
	t.Helper()
	if err := row.Scan(dst...); err != nil {
		t.Fatal(err)
	}
}

func int64p(v int64) *int64 { return &v }

func deref(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
}
