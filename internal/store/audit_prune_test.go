package store

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

var pruneActor = Actor{Type: ActorCLI, Name: "cli"}

// agedChain seals 30 events from 40 days ago, then 20 from today.
func agedChain(t *testing.T) (bundle, time.Time) {
	t.Helper()
	b := setup(t)
	old := time.Now().Add(-40 * 24 * time.Hour)
	for i := range 30 {
		b.insertAt(t, old.Add(time.Duration(i)*time.Minute), auditTestEvent(i))
	}
	b.audit(t, 20)
	b.sealAll(t)
	return b, time.Now().Add(-30 * 24 * time.Hour)
}

func TestPruneAudit_DeletesOldEventsAndTheChainStillVerifies(t *testing.T) {
	t.Parallel()
	b, cut := agedChain(t)
	if n, through, err := b.owner.AuditPrunePreview(b.ctx, cut); err != nil || n != 30 || through != 30 {
		t.Fatalf("preview: got %d through %d, %v; want 30 through 30", n, through, err)
	}
	deleted, err := b.owner.PruneAudit(b.ctx, cut, pruneActor, Origin{RequestID: "cli"})
	if err != nil || deleted != 30 {
		t.Fatalf("PruneAudit: got %d, %v; want 30, nil", deleted, err)
	}
	r := b.mustVerifyOK(t)
	if r.FirstSeq != 31 || r.LastSeq != 51 || r.Events != 21 {
		t.Errorf("after prune: %d events, seq %d..%d; want 21, 31..51 (the prune event is sealed)", r.Events, r.FirstSeq, r.LastSeq)
	}
	page, err := b.st.ListAudit(b.ctx, AuditFilter{Action: ActionAuditPrune}, "", 10)
	if err != nil || len(page.Events) != 1 {
		t.Fatalf("audit.prune events: got %d, %v; want 1", len(page.Events), err)
	}
	e := page.Events[0]
	var details struct {
		Before     time.Time `json:"before"`
		Deleted    int64     `json:"deleted"`
		ThroughSeq int64     `json:"through_seq"`
	}
	if err := json.Unmarshal(e.Details, &details); err != nil {
		t.Fatal(err)
	}
	if details.Deleted != 30 || details.ThroughSeq != 30 || !details.Before.Equal(cut.Truncate(time.Nanosecond)) ||
		e.ActorType != ActorCLI || e.ActorName != "cli" || e.ChainSeq == nil {
		t.Errorf("audit.prune event: %+v, details %s", e, e.Details)
	}
	// Old checkpoints went with their events; the prune anchor stays.
	if n := b.queryInt(t, `SELECT count(*) FROM audit_checkpoints WHERE chain_seq < 30`); n != 0 {
		t.Errorf("checkpoints before the anchor: %d, want 0", n)
	}
	// A second prune that finds nothing old still records itself.
	if deleted, err := b.owner.PruneAudit(b.ctx, cut, pruneActor, Origin{}); err != nil || deleted != 0 {
		t.Fatalf("second PruneAudit: got %d, %v; want 0, nil", deleted, err)
	}
	b.audit(t, 3)
	b.sealAll(t)
	if r := b.mustVerifyOK(t); r.Events != 25 {
		t.Errorf("events after more writes: %d, want 25", r.Events)
	}
}

func TestPruneAudit_EverythingOldLeavesOnlyThePruneEvent(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for i := range 10 {
		b.insertAt(t, time.Now().Add(-time.Hour), auditTestEvent(i))
	}
	// Unsealed events are sealed first, so that they can go too.
	deleted, err := b.owner.PruneAudit(b.ctx, time.Now().Add(-time.Minute), pruneActor, Origin{})
	if err != nil || deleted != 10 {
		t.Fatalf("PruneAudit: got %d, %v; want 10, nil", deleted, err)
	}
	r := b.mustVerifyOK(t)
	if r.Events != 1 || r.FirstSeq != 11 || r.Checkpoints != 1 {
		t.Errorf("after pruning all: %+v; want the prune event alone at seq 11 and the anchor", r)
	}
}

func TestPruneAudit_StopsAtTheFirstNewerEventInChainOrder(t *testing.T) {
	t.Parallel()
	b := setup(t)
	now := time.Now()
	b.insertAt(t, now.Add(-3*time.Hour), auditTestEvent(1))
	b.insertAt(t, now.Add(-time.Minute), auditTestEvent(2))
	b.sealAll(t)
	b.insertAt(t, now.Add(-2*time.Hour), auditTestEvent(3)) // committed late: sealed after a newer one
	b.sealAll(t)
	deleted, err := b.owner.PruneAudit(b.ctx, now.Add(-time.Hour), pruneActor, Origin{})
	if err != nil || deleted != 1 {
		t.Fatalf("PruneAudit: got %d, %v; want 1 (the newer event at seq 2 keeps seq 3)", deleted, err)
	}
	b.mustVerifyOK(t)
}

func TestPruneAudit_RefusesABrokenChainAndFutureCutoffs(t *testing.T) {
	t.Parallel()
	b, cut := agedChain(t)
	if _, err := b.owner.PruneAudit(b.ctx, time.Now().Add(time.Hour), pruneActor, Origin{}); err == nil {
		t.Error("a cut-off in the future was accepted")
	}
	mustExec(t, b.ctx, b.superuser(t), `UPDATE audit_events SET actor_name = 'mallory' WHERE id = `+eventAt(5))
	_, err := b.owner.PruneAudit(b.ctx, cut, pruneActor, Origin{})
	if !errors.Is(err, ErrAuditChainBroken) {
		t.Fatalf("PruneAudit of a broken chain: got %v, want ErrAuditChainBroken", err)
	}
	if n := b.queryInt(t, `SELECT count(*) FROM audit_events`); n != 50 {
		t.Errorf("events after the refused prune: %d, want 50", n)
	}
}

func TestPruneAudit_OwnerDeletesOnlyWithThePruneSetting(t *testing.T) {
	t.Parallel()
	b, _ := agedChain(t)
	for _, table := range []string{"audit_events WHERE id IN (SELECT event_id FROM audit_chain WHERE chain_seq <= 3)",
		"audit_chain WHERE chain_seq <= 3", "audit_text"} {
		if _, err := b.owner.Pool().Exec(b.ctx, `DELETE FROM `+table); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Fatalf("DELETE FROM %s without the setting: got %v, want the append-only refusal", table, err)
		}
	}
	tx, err := b.owner.Pool().Begin(b.ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(b.ctx)
	mustExec(t, b.ctx, tx, `SET LOCAL console.audit_prune = 'on'`)
	for _, table := range []string{"audit_events WHERE id IN (SELECT event_id FROM audit_chain WHERE chain_seq <= 3)",
		"audit_chain WHERE chain_seq <= 3"} {
		tag, err := tx.Exec(b.ctx, `DELETE FROM `+table)
		if err != nil || tag.RowsAffected() != 3 {
			t.Fatalf("DELETE FROM %s with the setting: got %v, %v; want 3 rows", table, tag, err)
		}
	}
}

func TestPruneAudit_AsTheRuntimeRoleIsRefusedAndDeletesNothing(t *testing.T) {
	t.Parallel()
	b, cut := agedChain(t)
	if _, err := b.st.PruneAudit(b.ctx, cut, pruneActor, Origin{}); !errors.Is(err, ErrPermissionDenied) {
		t.Fatalf("PruneAudit as the runtime role: got %v, want ErrPermissionDenied", err)
	}
	if n := b.queryInt(t, `SELECT count(*) FROM audit_events`); n != 50 {
		t.Errorf("events after the refused prune: got %d, want 50", n)
	}
	b.mustVerifyOK(t)
}
