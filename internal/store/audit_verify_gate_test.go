package store

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
)

func TestAuditVerifyGate_CallersShareTheRunningOrJustFinishedVerification(t *testing.T) {
	t.Parallel()
	var g auditVerifyGate
	var runs atomic.Int32
	started, finish := make(chan struct{}), make(chan struct{})
	verify := func(context.Context) (VerifyReport, error) {
		if runs.Add(1) == 1 {
			close(started)
		}
		<-finish
		return VerifyReport{OK: true, Events: 7}, nil
	}
	const callers = 10
	var wg sync.WaitGroup
	reports := make(chan VerifyReport, callers)
	for range callers {
		wg.Go(func() {
			r, err := g.run(t.Context(), auditVerifyShareFor, verify)
			if err != nil {
				t.Errorf("run: %v", err)
			}
			reports <- r
		})
	}
	<-started
	close(finish)
	wg.Wait()
	close(reports)
	for r := range reports {
		if !r.OK || r.Events != 7 {
			t.Errorf("got report %+v, want the shared run's", r)
		}
	}
	// Those that came while it ran waited for it; those that came after it
	// took its result.
	if n := runs.Load(); n != 1 {
		t.Errorf("runs: got %d for %d callers, want 1", n, callers)
	}
	before := runs.Load()
	// A caller that wants a fresh result does not take a finished one.
	if _, err := g.run(t.Context(), 0, verify); err != nil || runs.Load() != before+1 {
		t.Errorf("fresh call: got %v, %d new runs; want one", err, runs.Load()-before)
	}
}

func TestAuditVerifyGate_AWaiterRunsItsOwnWhenTheRunnersCallerLeaves(t *testing.T) {
	t.Parallel()
	var g auditVerifyGate
	leaving, cancel := context.WithCancel(t.Context())
	started := make(chan struct{})
	first := func(ctx context.Context) (VerifyReport, error) {
		close(started)
		<-ctx.Done()
		return VerifyReport{}, ctx.Err()
	}
	done := make(chan error, 1)
	go func() {
		_, err := g.run(leaving, 0, first)
		done <- err
	}()
	<-started
	waited := make(chan VerifyReport, 1)
	go func() {
		r, _ := g.run(t.Context(), 0, func(context.Context) (VerifyReport, error) { return VerifyReport{OK: true}, nil })
		waited <- r
	}()
	cancel()
	if err := <-done; err == nil {
		t.Fatal("the cancelled caller: got no error")
	}
	if r := <-waited; !r.OK {
		t.Fatalf("the waiter: got %+v, want the result of a run of its own", r)
	}
}
