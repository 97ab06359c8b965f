package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// auditVerifyShareFor is how long VerifyAuditChainShared hands out the
// result of a verification that has finished: a page of people pressing
// "Verify now", or the periodic check right after one, gets that result
// instead of reading the whole chain again.
const auditVerifyShareFor = 10 * time.Second

// VerifyAuditChainShared is VerifyAuditChain for callers that may take a
// result of moments ago: the audit page's button and the server's periodic
// check. It returns the result of a verification by this Store that
// finished less than 10 s ago, waits for the one that is running, or runs
// one. However many ask, a Store verifies on one connection at a time, so
// that a storm of verifications cannot take the pool that issues tokens.
func (s *Store) VerifyAuditChainShared(ctx context.Context) (VerifyReport, error) {
	return s.verifyGate.run(ctx, auditVerifyShareFor, s.verifyAuditChain)
}

// auditVerifyGate lets one verification run at a time; the others wait
// for it and share its result.
type auditVerifyGate struct {
	mu      sync.Mutex
	running *auditVerifyRun // nil when none runs
	last    *auditVerifyRun // the last run that succeeded
}

// auditVerifyRun is one verification; done closes when it has finished.
type auditVerifyRun struct {
	done     chan struct{}
	report   VerifyReport
	err      error
	finished time.Time
}

// run returns the result of the last successful run when it finished less
// than shareFor ago, else that of the run in progress, else of a new run of
// verify with ctx. A run that failed because its own caller went away is
// not shared: the next waiter runs one of its own.
func (g *auditVerifyGate) run(ctx context.Context, shareFor time.Duration, verify func(context.Context) (VerifyReport, error)) (VerifyReport, error) {
	for {
		g.mu.Lock()
		if last := g.last; last != nil && shareFor > 0 && time.Since(last.finished) < shareFor {
			g.mu.Unlock()
			return last.report, nil
		}
		r := g.running
		if r == nil {
			r = &auditVerifyRun{done: make(chan struct{})}
			g.running = r
			g.mu.Unlock()
			r.report, r.err = verify(ctx)
			r.finished = time.Now()
			g.mu.Lock()
			g.running = nil
			if r.err == nil {
				g.last = r
			}
			g.mu.Unlock()
			close(r.done)
			return r.report, r.err
		}
		g.mu.Unlock()
		select {
		case <-r.done:
		case <-ctx.Done():
			return VerifyReport{}, fmt.Errorf("store: verify audit: %w", ctx.Err())
		}
		if r.err != nil && ctx.Err() == nil && (errors.Is(r.err, context.Canceled) || errors.Is(r.err, context.DeadlineExceeded)) {
			continue
		}
		return r.report, r.err
	}
}
