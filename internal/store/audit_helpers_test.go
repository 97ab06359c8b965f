package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// auditTestEvent makes a plain audit event numbered i.
func auditTestEvent(i int) Event {
	return Event{
		Actor:  Actor{Type: ActorOperator, ID: "1", Name: "alice"},
		Origin: Origin{RequestID: fmt.Sprintf("req-%d", i), ClientIP: "192.0.2.1", UserAgent: "test"},
		Action: "token.issue", Outcome: OutcomeSuccess, AppID: 1234,
		TargetType: "token", TargetID: fmt.Sprintf("t-%d", i),
		Details: map[string]any{"n": i, "user_id": "u1"},
	}
}

// audit inserts n events through the store.
func (b bundle) audit(t *testing.T, n int) {
	t.Helper()
	for i := range n {
		if err := b.st.Audit(b.ctx, auditTestEvent(i)); err != nil {
			t.Fatalf("audit event %d: %v", i, err)
		}
	}
}

// sealAll seals until nothing is pending, then makes the events searchable
// (as the server's text indexer does beside its sealer), and returns how
// many were sealed. SealPending also returns 0 while another session holds
// the sealing lock (a cancelled sealer's connection may hold it a moment
// longer), so the end is when no event is left unsealed.
func (b bundle) sealAll(t *testing.T) int {
	t.Helper()
	total := 0
	deadline := time.Now().Add(10 * time.Second)
	for {
		n, err := b.st.SealPending(b.ctx, 64)
		if err != nil {
			t.Fatalf("seal: %v", err)
		}
		total += n
		if n > 0 {
			continue
		}
		unsealed, _, err := b.st.SealLag(b.ctx)
		if err != nil {
			t.Fatalf("seal lag: %v", err)
		}
		if unsealed == 0 {
			if _, err := b.st.IndexAuditText(b.ctx); err != nil {
				t.Fatalf("index text: %v", err)
			}
			return total
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d events still unsealed: the sealing lock is held elsewhere", unsealed)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// verify runs verification and fails the test on an error (not on a break).
func (b bundle) verify(t *testing.T) VerifyReport {
	t.Helper()
	r, err := b.st.VerifyAuditChain(b.ctx)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	return r
}

// mustVerifyOK fails the test unless the chain verifies.
func (b bundle) mustVerifyOK(t *testing.T) VerifyReport {
	t.Helper()
	r := b.verify(t)
	if !r.OK {
		t.Fatalf("verify: chain broken at seq %d (%s): %s", r.BreakSeq, r.BreakKind, r.Message)
	}
	return r
}

// superuser connects to the test database as the server's superuser, with
// triggers off: what an attacker with database access can do.
func (b bundle) superuser(t *testing.T) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(b.ctx, b.db.SuperuserURL)
	if err != nil {
		t.Fatalf("connect as superuser: %v", err)
	}
	t.Cleanup(func() { conn.Close(context.WithoutCancel(b.ctx)) })
	if _, err := conn.Exec(b.ctx, `SET session_replication_role = replica`); err != nil {
		t.Fatalf("disable triggers: %v", err)
	}
	return conn
}

// mustExec runs SQL and fails the test on error.
func mustExec(t *testing.T, ctx context.Context, db interface {
	Exec(context.Context, string, ...any) (pgconn.CommandTag, error)
}, sql string, args ...any) {
	t.Helper()
	if _, err := db.Exec(ctx, sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// insertAt inserts an event directly, with a chosen time, and returns its
// id. Its project is e.ProjectID as given (none when 0), not looked up.
func (b bundle) insertAt(t *testing.T, at time.Time, e Event) int64 {
	t.Helper()
	var appID, projectID *int64
	if e.AppID != 0 {
		v := int64(e.AppID)
		appID = &v
	}
	if e.ProjectID != 0 {
		projectID = &e.ProjectID
	}
	details := e.Details
	if details == nil {
		details = map[string]any{}
	}
	var id int64
	err := b.owner.Pool().QueryRow(b.ctx, `INSERT INTO audit_events (occurred_at, actor_type, actor_id, actor_name,
			action, outcome, app_id, target_type, target_id, request_id, client_ip, user_agent, details, token_fingerprint, project_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id`,
		at, e.Actor.Type, e.Actor.ID, e.Actor.Name, e.Action, e.Outcome, appID, e.TargetType, e.TargetID,
		e.Origin.RequestID, e.Origin.ClientIP, e.Origin.UserAgent, details, e.TokenFingerprint, projectID).Scan(&id)
	if err != nil {
		t.Fatalf("insert event: %v", err)
	}
	return id
}
