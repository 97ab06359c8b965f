package store

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// sealedChain makes 100 sealed events: a periodic checkpoint at seq 50 (the
// first sealing round) and the signed head at 100.
func sealedChain(t *testing.T) bundle {
	t.Helper()
	b := setup(t)
	b.audit(t, 50)
	if _, err := b.st.SealPending(b.ctx, 1000); err != nil {
		t.Fatal(err)
	}
	b.audit(t, 50)
	b.sealAll(t)
	r := b.mustVerifyOK(t)
	if r.Events != 100 || r.Checkpoints != 1 {
		t.Fatalf("setup: %d events, %d checkpoints; want 100, 1", r.Events, r.Checkpoints)
	}
	return b
}

// chainEvents returns every event keyed by chain position.
func (b bundle) chainEvents(t *testing.T) map[int64]AuditEvent {
	t.Helper()
	page, err := b.st.ListAudit(b.ctx, AuditFilter{}, "", MaxAuditPageSize)
	if err != nil {
		t.Fatal(err)
	}
	out := map[int64]AuditEvent{}
	for _, e := range page.Events {
		if e.ChainSeq != nil {
			out[*e.ChainSeq] = e
		}
	}
	return out
}

// rehash recomputes prev_hash and hash from seq to the end, as an attacker
// who knows the algorithm but not the MAC key would after an edit.
func (b bundle) rehash(t *testing.T, su *pgx.Conn, from int64) []byte {
	t.Helper()
	events := b.chainEvents(t)
	prev := events[from-1].Hash
	for seq := from; ; seq++ {
		e, ok := events[seq]
		if !ok {
			return prev
		}
		h := auditHash(prev, seq, &e)
		mustExec(t, b.ctx, su, `UPDATE audit_chain SET prev_hash = $2, hash = $3 WHERE chain_seq = $1`, seq, prev, h)
		prev = h
	}
}

// forge appends a sealed event at seq 101 with the given hash (nil: the
// correct one).
func (b bundle) forge(t *testing.T, su *pgx.Conn, hash []byte) {
	t.Helper()
	id := b.insertAt(t, time.Now(), auditTestEvent(999))
	head := b.chainEvents(t)[100]
	var forged AuditEvent
	for _, e := range b.allEvents(t) {
		if e.ID == id {
			forged = e
		}
	}
	if hash == nil {
		hash = auditHash(head.Hash, 101, &forged)
	}
	mustExec(t, b.ctx, su, `INSERT INTO audit_chain (chain_seq, event_id, occurred_at, prev_hash, hash)
		SELECT 101, $1, occurred_at, $2, $3 FROM audit_events WHERE id = $1`,
		id, head.Hash, hash)
	mustExec(t, b.ctx, su, `DELETE FROM audit_unsealed WHERE event_id = $1`, id)
}

// eventAt is the SQL of the id of the event at chain position seq.
func eventAt(seq int) string {
	return fmt.Sprintf("(SELECT event_id FROM audit_chain WHERE chain_seq = %d)", seq)
}

func (b bundle) allEvents(t *testing.T) []AuditEvent {
	t.Helper()
	page, err := b.st.ListAudit(b.ctx, AuditFilter{}, "", MaxAuditPageSize)
	if err != nil {
		t.Fatal(err)
	}
	return page.Events
}

func TestVerifyAuditChain_DetectsTampering(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		tamper func(t *testing.T, b bundle, su *pgx.Conn)
		seq    int64
		kind   string
	}{
		{"edited details", func(t *testing.T, b bundle, su *pgx.Conn) {
			mustExec(t, b.ctx, su, `UPDATE audit_events SET details = '{"n": 1, "user_id": "mallory"}' WHERE id = `+eventAt(57))
		}, 57, BreakHash},
		{"edited time", func(t *testing.T, b bundle, su *pgx.Conn) {
			mustExec(t, b.ctx, su, `UPDATE audit_events SET occurred_at = occurred_at - interval '1 microsecond' WHERE id = `+eventAt(3))
		}, 3, BreakHash},
		{"deleted event", func(t *testing.T, b bundle, su *pgx.Conn) {
			mustExec(t, b.ctx, su, `DELETE FROM audit_events WHERE id = `+eventAt(40))
		}, 40, BreakGap},
		{"deleted event and its place", func(t *testing.T, b bundle, su *pgx.Conn) {
			mustExec(t, b.ctx, su, `DELETE FROM audit_events WHERE id = `+eventAt(40))
			mustExec(t, b.ctx, su, `DELETE FROM audit_chain WHERE chain_seq = 40`)
		}, 40, BreakGap},
		{"swapped events", func(t *testing.T, b bundle, su *pgx.Conn) {
			mustExec(t, b.ctx, su, `UPDATE audit_chain SET chain_seq = 1000000 WHERE chain_seq = 10`)
			mustExec(t, b.ctx, su, `UPDATE audit_chain SET chain_seq = 10 WHERE chain_seq = 20`)
			mustExec(t, b.ctx, su, `UPDATE audit_chain SET chain_seq = 20 WHERE chain_seq = 1000000`)
		}, 10, BreakPrevHash},
		{"forged event with a random hash", func(t *testing.T, b bundle, su *pgx.Conn) {
			b.forge(t, su, bytes.Repeat([]byte{0x5a}, 32))
		}, 101, BreakHash},
		{"forged event with a correct hash", func(t *testing.T, b bundle, su *pgx.Conn) {
			b.forge(t, su, nil)
		}, 101, BreakUnsignedTail},
		{"chain recomputed after an edit", func(t *testing.T, b bundle, su *pgx.Conn) {
			mustExec(t, b.ctx, su, `UPDATE audit_events SET actor_name = 'mallory' WHERE id = `+eventAt(10))
			b.rehash(t, su, 10)
		}, 50, BreakCheckpoint},
		{"chain and checkpoint recomputed after an edit", func(t *testing.T, b bundle, su *pgx.Conn) {
			mustExec(t, b.ctx, su, `UPDATE audit_events SET actor_name = 'mallory' WHERE id = `+eventAt(10))
			last := b.rehash(t, su, 10)
			mustExec(t, b.ctx, su, `UPDATE audit_checkpoints SET hash = (SELECT hash FROM audit_chain WHERE chain_seq = 50) WHERE chain_seq = 50`)
			mustExec(t, b.ctx, su, `UPDATE audit_chain_head SET hash = $1`, last)
		}, 50, BreakCheckpointMAC},
		{"oldest events deleted without a prune", func(t *testing.T, b bundle, su *pgx.Conn) {
			mustExec(t, b.ctx, su, `DELETE FROM audit_events WHERE id IN (SELECT event_id FROM audit_chain WHERE chain_seq <= 5)`)
			mustExec(t, b.ctx, su, `DELETE FROM audit_chain WHERE chain_seq <= 5`)
		}, 6, BreakAnchor},
		{"newest event deleted", func(t *testing.T, b bundle, su *pgx.Conn) {
			mustExec(t, b.ctx, su, `DELETE FROM audit_events WHERE id = `+eventAt(100))
			mustExec(t, b.ctx, su, `DELETE FROM audit_chain WHERE chain_seq = 100`)
		}, 100, BreakTruncated},
		{"newest events deleted and the head moved back", func(t *testing.T, b bundle, su *pgx.Conn) {
			mustExec(t, b.ctx, su, `DELETE FROM audit_events WHERE id IN (SELECT event_id FROM audit_chain WHERE chain_seq > 90)`)
			mustExec(t, b.ctx, su, `DELETE FROM audit_chain WHERE chain_seq > 90`)
			mustExec(t, b.ctx, su, `UPDATE audit_chain_head SET chain_seq = 90, hash = (SELECT hash FROM audit_chain WHERE chain_seq = 90)`)
		}, 90, BreakHeadMAC},
		{"seal removed from an event", func(t *testing.T, b bundle, su *pgx.Conn) {
			mustExec(t, b.ctx, su, `DELETE FROM audit_chain WHERE chain_seq = 30`)
		}, 30, BreakGap},
		{"seal removed from an event and the chain relinked", func(t *testing.T, b bundle, su *pgx.Conn) {
			mustExec(t, b.ctx, su, `DELETE FROM audit_chain WHERE chain_seq = 100`)
			mustExec(t, b.ctx, su, `UPDATE audit_chain_head SET chain_seq = 99, hash = (SELECT hash FROM audit_chain WHERE chain_seq = 99)`)
		}, 99, BreakHeadMAC},
		{"event taken off the seal queue", func(t *testing.T, b bundle, su *pgx.Conn) {
			b.audit(t, 1)
			mustExec(t, b.ctx, su, `DELETE FROM audit_unsealed`)
		}, 0, BreakUnsealedPosition},
		{"checkpoint moved", func(t *testing.T, b bundle, su *pgx.Conn) {
			mustExec(t, b.ctx, su, `UPDATE audit_checkpoints SET chain_seq = 60, hash = (SELECT hash FROM audit_chain WHERE chain_seq = 60)`)
		}, 60, BreakCheckpointMAC},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := sealedChain(t)
			tt.tamper(t, b, b.superuser(t))
			r := b.verify(t)
			if r.OK || r.BreakSeq != tt.seq || r.BreakKind != tt.kind {
				t.Fatalf("got ok=%v %s at seq %d (%s), want %s at seq %d", r.OK, r.BreakKind, r.BreakSeq, r.Message, tt.kind, tt.seq)
			}
			last, err := b.st.LastVerification(b.ctx)
			if err != nil || last.OK || last.BreakSeq != tt.seq || last.BreakKind != tt.kind || last.Message != r.Message {
				t.Errorf("LastVerification: got %+v, %v; want the broken report", last, err)
			}
		})
	}
}

func TestVerifyAuditChain_EmptyChainIsOK(t *testing.T) {
	t.Parallel()
	b := setup(t)
	if _, err := b.st.LastVerification(b.ctx); !errors.Is(err, ErrNoAuditVerification) {
		t.Fatalf("LastVerification before any: got %v, want ErrNoAuditVerification", err)
	}
	r := b.mustVerifyOK(t)
	if r.Events != 0 || r.FirstSeq != 0 || r.LastSeq != 0 {
		t.Errorf("report of an empty chain: %+v", r)
	}
	last, err := b.st.LastVerification(b.ctx)
	if err != nil || !last.OK || last.VerifiedAt.IsZero() {
		t.Errorf("LastVerification: got %+v, %v", last, err)
	}
}

func TestAuditTrigger_RefusesChangesFromTheRuntimeRoleAndTheOwner(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.audit(t, 2)
	if _, err := b.st.SealPending(b.ctx, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := b.st.IndexAuditText(b.ctx); err != nil {
		t.Fatal(err)
	}
	// Seq 1 is sealed (and searchable), the other event is not. The runtime role holds no
	// privilege for any of this; the owner, who does, meets the trigger.
	roles := []struct {
		name, want string
		st         *Store
	}{{"runtime role", "permission denied", b.st}, {"owner", "append-only", b.owner}}
	for _, sql := range []string{
		`UPDATE audit_events SET actor_name = 'mallory' WHERE id = ` + eventAt(1),
		`UPDATE audit_events SET actor_name = 'mallory' WHERE id IN (SELECT event_id FROM audit_unsealed)`,
		`UPDATE audit_events SET project_id = 1 WHERE id IN (SELECT event_id FROM audit_unsealed)`,
		`UPDATE audit_events SET canonical_version = 1 WHERE id IN (SELECT event_id FROM audit_unsealed)`,
		`UPDATE audit_chain SET sealed_at = now() WHERE chain_seq = 1`,
		`UPDATE audit_chain SET chain_seq = 7 WHERE chain_seq = 1`,
		`UPDATE audit_text SET body = 'x'`,
		`DELETE FROM audit_events WHERE id = ` + eventAt(1),
		`DELETE FROM audit_events WHERE id IN (SELECT event_id FROM audit_unsealed)`,
		`DELETE FROM audit_chain WHERE chain_seq = 1`,
		`DELETE FROM audit_text`,
		`TRUNCATE audit_events`,
		`TRUNCATE audit_chain`,
		`TRUNCATE audit_text`,
	} {
		for _, r := range roles {
			_, err := r.st.Pool().Exec(b.ctx, sql)
			if !isInsufficientPrivilege(err) || !strings.Contains(err.Error(), r.want) {
				t.Errorf("%s as the %s: got %v, want SQLSTATE 42501 (%s)", sql, r.name, err, r.want)
			}
		}
	}
	b.sealAll(t)
	b.mustVerifyOK(t)
	if ids := slices.Collect(func(yield func(int64) bool) {
		for _, e := range b.allEvents(t) {
			if e.ActorName != "alice" && !yield(e.ID) {
				return
			}
		}
	}); len(ids) != 0 {
		t.Errorf("events changed despite the refusals: %v", ids)
	}
}
