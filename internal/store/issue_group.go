package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// GroupCommit says how concurrent IssueToken calls share their commits.
type GroupCommit struct {
	// MaxBatch bounds the tokens of one commit (default 256).
	MaxBatch int
	// MaxFlushes bounds the commits in flight at once (default 2). A call
	// that finds one free is written at once, alone: a lone request waits
	// for nobody. Calls that find none wait for the first to finish, at
	// most one commit's time, and are written together by it.
	MaxFlushes int
	// Timeout bounds one commit (default 30 s), so that a database that
	// stops answering fails its callers instead of holding them.
	Timeout time.Duration
}

// Defaults of GroupCommit.
const (
	defaultGroupMaxBatch   = 256
	defaultGroupMaxFlushes = 2
	defaultGroupTimeout    = 30 * time.Second
)

// issueGroup gathers IssueToken calls while earlier ones commit.
type issueGroup struct {
	s       *Store
	cfg     GroupCommit
	mu      sync.Mutex
	pending []*issueCall
	running int  // flushers at work
	closed  bool // the runner stopped: new calls issue on their own
	idle    sync.Cond
}

// issueCall is one IssueToken call waiting for its commit.
type issueCall struct {
	ctx    context.Context
	req    IssueRequest
	issued IssuedToken
	err    error
	done   chan struct{}
}

// RunIssueGroupCommit makes IssueToken calls share commits until ctx is
// done: calls that arrive while MaxFlushes commits are in flight are
// gathered, and the next free flusher writes up to MaxBatch of them in one
// statement and one transaction. Each caller gets its token only after that
// commit; a call whose row cannot be written (its input, or its project
// disabled meanwhile) fails alone. When ctx is done, the calls gathered are
// still written before it returns, and later calls commit one by one.
func (s *Store) RunIssueGroupCommit(ctx context.Context, cfg GroupCommit) {
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = defaultGroupMaxBatch
	}
	if cfg.MaxFlushes <= 0 {
		cfg.MaxFlushes = defaultGroupMaxFlushes
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = defaultGroupTimeout
	}
	g := &issueGroup{s: s, cfg: cfg}
	g.idle.L = &g.mu
	if !s.group.CompareAndSwap(nil, g) {
		return // already running
	}
	<-ctx.Done()
	g.mu.Lock()
	g.closed = true
	for g.running > 0 {
		g.idle.Wait()
	}
	g.mu.Unlock()
	s.group.CompareAndSwap(g, nil)
}

// issue hands r to the group and waits for its commit; ok is false when the
// group has stopped and the caller must issue on its own.
func (g *issueGroup) issue(ctx context.Context, r IssueRequest) (issued IssuedToken, err error, ok bool) {
	c := &issueCall{ctx: ctx, req: r, done: make(chan struct{})}
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return IssuedToken{}, nil, false
	}
	g.pending = append(g.pending, c)
	if g.running < g.cfg.MaxFlushes {
		g.running++
		go g.flushAll()
	}
	g.mu.Unlock()
	select {
	case <-c.done:
		return c.issued, c.err, true
	case <-ctx.Done():
		// Not answered: whether it commits or not, the caller never sees
		// the token.
		return IssuedToken{}, fmt.Errorf("issue token: %w", ctx.Err()), true
	}
}

// flushAll writes gathered calls, batch after batch, until none is left.
func (g *issueGroup) flushAll() {
	for {
		g.mu.Lock()
		n := min(len(g.pending), g.cfg.MaxBatch)
		if n == 0 {
			g.running--
			g.idle.Broadcast()
			g.mu.Unlock()
			return
		}
		batch := make([]*issueCall, n)
		copy(batch, g.pending)
		g.pending = append(g.pending[:0], g.pending[n:]...)
		g.mu.Unlock()
		g.flush(batch)
	}
}

// flush writes one batch in one statement, its own transaction, and answers
// each call once it committed, or failed. When the statement fails as a whole (a row that the
// database refuses, a deadlock), each call is tried again on its own, so
// that only the one at fault fails.
func (g *issueGroup) flush(batch []*issueCall) {
	calls := batch[:0:0]
	for _, c := range batch {
		if err := c.ctx.Err(); err != nil {
			g.answer(c, IssuedToken{}, fmt.Errorf("issue token: %w", err))
			continue
		}
		calls = append(calls, c)
	}
	if len(calls) == 0 {
		return
	}
	s := g.s
	ctx, cancel := context.WithTimeout(context.Background(), g.cfg.Timeout)
	defer cancel()
	reqs := make([]IssueRequest, len(calls))
	for i, c := range calls {
		reqs[i] = c.req
	}
	issued, errs, err := g.write(ctx, reqs)
	// A statement the database refused (an ERROR, not a FATAL that ended the
	// connection, after which it cannot say whether it committed).
	var pgErr *pgconn.PgError
	statementFailed := errors.As(err, &pgErr) && pgErr.Severity == "ERROR"
	switch {
	case err != nil && statementFailed && len(calls) > 1:
		for _, c := range calls {
			it, err := s.issueOne(ctx, s.pool, c.req)
			if err == nil {
				s.observeIssued([]IssuedToken{it})
			}
			g.answer(c, it, err)
		}
	case err != nil:
		for _, c := range calls {
			g.answer(c, IssuedToken{}, fmt.Errorf("issue token: %w", err))
		}
	default:
		for i, c := range calls {
			if errs[i] == nil {
				s.observeIssued(issued[i : i+1])
			}
			g.answer(c, issued[i], errs[i])
		}
	}
}

// write issues reqs on one connection: one read of their projects, one
// statement that writes them all, which is its own transaction and commit.
func (g *issueGroup) write(ctx context.Context, reqs []IssueRequest) ([]IssuedToken, []error, error) {
	conn, err := g.s.pool.Acquire(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("store: acquire a connection: %w", err)
	}
	defer conn.Release()
	return g.s.issueTokens(ctx, conn, reqs, false)
}

// answer gives a call its result.
func (g *issueGroup) answer(c *issueCall, issued IssuedToken, err error) {
	c.issued, c.err = issued, err
	close(c.done)
}
