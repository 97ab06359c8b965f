package sink_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/zegocloud-console/console/internal/pgtest"
	"github.com/zegocloud-console/console/internal/sink"
	"github.com/zegocloud-console/console/internal/store"
)

var testActor = store.Actor{Type: store.ActorOperator, ID: "1", Name: "root"}

// env is a store on a database of its own, with a helper to write and seal
// events.
type env struct {
	t  *testing.T
	st *store.Store
	db pgtest.DB
}

func newEnv(t *testing.T) env {
	t.Helper()
	keys, err := store.NewKeyring(bytes.Repeat([]byte{5}, 32))
	if err != nil {
		t.Fatal(err)
	}
	db := pgtest.New(t)
	st, err := store.Open(t.Context(), db.RuntimeURL, keys)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	return env{t: t, st: st, db: db}
}

// events writes n token.issue-like events and seals them.
func (e env) events(n int) {
	e.t.Helper()
	for i := range n {
		err := e.st.Audit(e.t.Context(), store.Event{Actor: store.Actor{Type: store.ActorAPIKey, ID: "zc_test", Name: "svc"},
			Origin: store.Origin{RequestID: fmt.Sprintf("req-%d", i), ClientIP: "192.0.2.7", UserAgent: "test"},
			Action: "token.issue", Outcome: store.OutcomeSuccess, AppID: 1234, TargetType: "token", TargetID: fmt.Sprint(i),
			Details: map[string]any{"user_id": fmt.Sprintf("user-%d", i)}})
		if err != nil {
			e.t.Fatal(err)
		}
	}
	e.seal()
}

// seal seals every pending event.
func (e env) seal() {
	e.t.Helper()
	for {
		n, err := e.st.SealPending(e.t.Context(), 1000)
		if err != nil {
			e.t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
}

// head is the chain's last position.
func (e env) head() int64 {
	e.t.Helper()
	var seq int64
	if err := e.st.Pool().QueryRow(e.t.Context(), `SELECT COALESCE(max(chain_seq), 0) FROM audit_chain`).Scan(&seq); err != nil {
		e.t.Fatal(err)
	}
	return seq
}

// runner starts a Runner with a fast retry schedule until the test ends.
func (e env) runner(d *sink.Deliverer, schedule string) {
	e.t.Helper()
	sched, err := sink.ParseSchedule(schedule)
	if err != nil {
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	r := &sink.Runner{Store: e.st, Deliverer: d, Interval: 10 * time.Millisecond, Batch: 7, Retry: sched,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	go func() {
		r.Run(ctx)
		close(done)
	}()
	e.t.Cleanup(func() {
		cancel()
		<-done
	})
}

// waitFor polls cond until it holds or 30 s pass.
func waitFor(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s: %s", what, state)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// sinkState reads a sink.
func (e env) sink(id int64) store.Sink {
	e.t.Helper()
	k, err := e.st.GetSink(e.t.Context(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return k
}

// received collects the positions a receiver accepted, in arrival order.
type received struct {
	mu   sync.Mutex
	seqs []int64
}

func (r *received) add(seq int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seqs = append(r.seqs, seq)
}

func (r *received) get() []int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]int64{}, r.seqs...)
}

// chainFields reads the chain fields of one streamed event.
func chainFields(t *testing.T, line []byte) (seq int64, prev, hash string) {
	t.Helper()
	var ev struct {
		ChainSeq *int64  `json:"chain_seq"`
		PrevHash *string `json:"prev_hash"`
		Hash     *string `json:"hash"`
	}
	if err := json.Unmarshal(line, &ev); err != nil || ev.ChainSeq == nil || ev.PrevHash == nil || ev.Hash == nil {
		t.Fatalf("streamed event %s: want chain_seq, prev_hash and hash (%v)", line, err)
	}
	return *ev.ChainSeq, *ev.PrevHash, *ev.Hash
}

// wantSeqs fails unless got is 1..n, each once, in order.
func wantSeqs(t *testing.T, got []int64, n int64) {
	t.Helper()
	if int64(len(got)) != n {
		t.Fatalf("got %d events %v, want %d (1..%d once each)", len(got), got, n, n)
	}
	for i, s := range got {
		if s != int64(i)+1 {
			t.Fatalf("got %v, want 1..%d in order: position %d is %d", got, n, i, s)
		}
	}
}
