package store

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestSealPending_ConcurrentInsertsFormOneContiguousChain(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 25 {
				if err := b.st.Audit(b.ctx, auditTestEvent(g*100+i)); err != nil {
					t.Errorf("audit: %v", err)
				}
			}
		})
	}
	wg.Wait()
	if got := b.sealAll(t); got != 200 {
		t.Fatalf("sealed %d events, want 200", got)
	}
	r := b.mustVerifyOK(t)
	if r.Events != 200 || r.FirstSeq != 1 || r.LastSeq != 200 {
		t.Errorf("report: %d events, seq %d..%d; want 200, 1..200", r.Events, r.FirstSeq, r.LastSeq)
	}
	if n := b.queryInt(t, `SELECT count(DISTINCT chain_seq) FROM audit_chain WHERE chain_seq BETWEEN 1 AND 200`); n != 200 {
		t.Errorf("distinct sealed positions 1..200: got %d, want 200", n)
	}
	if n := b.queryInt(t, `SELECT count(*) FROM audit_unsealed`); n != 0 {
		t.Errorf("unsealed events left: %d", n)
	}
}

func TestSealPending_TwoInstancesSealingDuringInsertsKeepAValidChain(t *testing.T) {
	t.Parallel()
	b := setup(t)
	other := b.open(t)
	ctx, cancel := context.WithCancel(b.ctx)
	var sealers, writers sync.WaitGroup
	for _, st := range []*Store{b.st, other} {
		sealers.Go(func() {
			for ctx.Err() == nil {
				if _, err := st.SealPending(ctx, 7); err != nil && ctx.Err() == nil {
					t.Errorf("seal: %v", err)
				}
			}
		})
	}
	for g := range 4 {
		writers.Go(func() {
			for i := range 40 {
				if err := b.st.Audit(b.ctx, auditTestEvent(g*100+i)); err != nil {
					t.Errorf("audit: %v", err)
				}
			}
		})
	}
	writers.Wait()
	cancel()
	sealers.Wait()
	b.sealAll(t)
	r := b.mustVerifyOK(t)
	if r.Events != 160 || r.LastSeq != 160 {
		t.Errorf("report: %d events up to seq %d, want 160 up to 160", r.Events, r.LastSeq)
	}
}

func TestSealPending_ReturnsZeroWhileAnotherInstanceSeals(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.audit(t, 3)
	tx, err := b.st.Pool().Begin(b.ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(b.ctx)
	mustExec(t, b.ctx, tx, `SELECT pg_advisory_xact_lock(x'7a63617564697431'::bigint)`)
	if n, err := b.st.SealPending(b.ctx, 10); n != 0 || err != nil {
		t.Fatalf("SealPending while locked: got %d, %v; want 0, nil", n, err)
	}
	tx.Rollback(b.ctx)
	if n, err := b.st.SealPending(b.ctx, 10); n != 3 || err != nil {
		t.Fatalf("SealPending after unlock: got %d, %v; want 3, nil", n, err)
	}
}

func TestSealPending_WritesSignedCheckpointsAndHead(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.audit(t, 5)
	b.sealAll(t)
	b.audit(t, 5)
	b.sealAll(t)
	// The first seal leaves a checkpoint; the second, under a minute and 1000
	// events later, does not.
	if n := b.queryInt(t, `SELECT count(*) FROM audit_checkpoints WHERE kind = 'periodic' AND chain_seq = 5`); n != 1 {
		t.Errorf("periodic checkpoints at seq 5: got %d, want 1", n)
	}
	if n := b.queryInt(t, `SELECT chain_seq FROM audit_chain_head`); n != 10 {
		t.Errorf("signed head at seq %d, want 10", n)
	}
	r := b.mustVerifyOK(t)
	if r.Checkpoints != 1 {
		t.Errorf("checkpoints verified: got %d, want 1", r.Checkpoints)
	}

	// Another MAC key verifies none of it.
	b.st.SetAuditMACKeys([][]byte{bytes.Repeat([]byte{2}, 32)})
	if r := b.verify(t); r.OK || r.BreakKind != BreakCheckpointMAC || r.BreakSeq != 5 {
		t.Errorf("verify with another key: got ok=%v %s at %d, want checkpoint_bad_mac at 5", r.OK, r.BreakKind, r.BreakSeq)
	}
	b.audit(t, 1)
	if _, err := b.st.SealPending(b.ctx, 10); err == nil || !strings.Contains(err.Error(), "does not match its signed head") {
		t.Errorf("sealing with a key that cannot verify the head: got %v, want ErrAuditChainHead", err)
	}
	// Rotating: the new key signs, the old one still verifies.
	b.st.SetAuditMACKeys(append([][]byte{bytes.Repeat([]byte{2}, 32)}, b.keys.DerivedKeys("audit-checkpoint")...))
	b.sealAll(t)
	b.mustVerifyOK(t)
}

func TestSealLag_CountsUnsealedEvents(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.insertAt(t, time.Now().Add(-time.Hour), auditTestEvent(1))
	b.audit(t, 2)
	n, oldest, err := b.st.SealLag(b.ctx)
	if err != nil || n != 3 || oldest < 59*time.Minute || oldest > 2*time.Hour {
		t.Fatalf("SealLag: got %d, %v, %v; want 3, about 1h, nil", n, oldest, err)
	}
	b.sealAll(t)
	if n, oldest, err := b.st.SealLag(b.ctx); err != nil || n != 0 || oldest != 0 {
		t.Fatalf("SealLag after sealing: got %d, %v, %v; want 0, 0, nil", n, oldest, err)
	}
}

// syncBuffer is a log destination safe for the sealer goroutine.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

func TestRunSealer_SealsAndSurvivesLosingItsConnections(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var logs syncBuffer
	ctx, cancel := context.WithCancel(b.ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		b.st.RunSealer(ctx, 10*time.Millisecond, slog.New(slog.NewTextHandler(&logs, nil)))
	}()
	waitSealed := func(want int) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for b.queryInt(t, `SELECT count(*) FROM audit_chain`) != want {
			if time.Now().After(deadline) {
				t.Fatalf("sealer did not seal %d events in time", want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	b.audit(t, 5)
	waitSealed(5)
	// The head goes to the log too: a copy outside the database.
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(logs.String(), `msg="audit chain head" chain_seq=`); {
		if time.Now().After(deadline) {
			t.Fatalf("the sealer did not log the chain head; logs:\n%s", logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Kill every connection to the database: the sealer must carry on.
	su := b.superuser(t)
	mustExec(t, b.ctx, su, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid()`)
	time.Sleep(50 * time.Millisecond)
	for i := range 5 {
		// A pooled connection may have died with the others: the pool replaces it.
		for try := 0; b.st.Audit(b.ctx, auditTestEvent(i)) != nil; try++ {
			if try == 50 {
				t.Fatal("the store does not recover its connections")
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitSealed(10)
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("RunSealer did not return after its context ended")
	}
	b.mustVerifyOK(t)
}

func TestRunSealer_KeepsTickingWithoutADatabase(t *testing.T) {
	t.Parallel()
	keys, _ := NewKeyring(bytes.Repeat([]byte{1}, 32))
	st, err := Open(t.Context(), "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=1", keys)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var logs syncBuffer
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	st.RunSealer(ctx, 5*time.Millisecond, slog.New(slog.NewTextHandler(&logs, nil)))
	if got := strings.Count(logs.String(), "audit sealer failing"); got != 1 {
		t.Errorf("failure logged %d times in 300ms, want once (then at most once a minute):\n%s", got, logs.String())
	}
}

func TestSealPending_AppendsToTheChainAndLeavesTheEventRowsAsTheyWereWritten(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.audit(t, 20)
	versions := func() string {
		var v string
		if err := b.st.pool.QueryRow(b.ctx, `SELECT string_agg(id || ':' || xmin || ':' || ctid, ',' ORDER BY id) FROM audit_events`).Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	before := versions()
	if b.queryInt(t, `SELECT count(*) FROM audit_unsealed`) != 20 {
		t.Fatal("want the 20 events waiting for their seal")
	}
	b.sealAll(t)
	if after := versions(); after != before {
		t.Errorf("event rows after sealing: got versions %s, want them untouched: %s", after, before)
	}
	if n := b.queryInt(t, `SELECT count(*) FROM audit_chain c JOIN audit_text x USING (event_id)`); n != 20 {
		t.Errorf("chain positions with their text: got %d, want 20", n)
	}
	if n := b.queryInt(t, `SELECT count(*) FROM audit_unsealed`); n != 0 {
		t.Errorf("events still waiting: got %d, want 0", n)
	}
}
