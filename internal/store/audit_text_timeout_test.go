package store

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestListAudit_TooSlowTextSearchIsRefusedAsTooBroad(t *testing.T) {
	t.Parallel()
	b := setup(t, WithAuditTextTimeout(300*time.Millisecond))
	ctx, st := b.ctx, b.st
	if err := st.Audit(ctx, Event{Actor: Actor{Type: ActorSystem, Name: "t"}, Action: "test.event", Outcome: OutcomeSuccess}); err != nil {
		t.Fatal(err)
	}
	// Hold the table so that the search cannot finish in time, whatever the
	// machine's speed (as the owner: the runtime role may not lock it so).
	lock, err := b.owner.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck
	if _, err := lock.Exec(ctx, `LOCK TABLE audit_events IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	_, err = st.ListAudit(ctx, AuditFilter{Text: "test"}, "", 10)
	if hint := FieldErrors(err)["q"]; !strings.Contains(hint, "too common") || !strings.Contains(hint, "last 31 days") {
		t.Fatalf("got %v, want a field error on q saying the search is too broad and that it keeps to the last 31 days", err)
	}
	// Without text the same page is not limited this way: it waits for the lock.
	if err := lock.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if page, err := st.ListAudit(ctx, AuditFilter{}, "", 10); err != nil || len(page.Events) != 1 {
		t.Fatalf("after the lock: got %d events, %v; want 1", len(page.Events), err)
	}
}
