package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/zegocloud-console/console/internal/token04"
)

// startGroupCommit runs group commit on b.st with one flush at a time until
// the test ends, and returns once it runs.
func (b bundle) startGroupCommit(t *testing.T, cfg GroupCommit) {
	t.Helper()
	ctx, cancel := context.WithCancel(b.ctx)
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		b.st.RunIssueGroupCommit(ctx, cfg)
	}()
	t.Cleanup(func() { cancel(); <-stopped })
	b.waitFor(t, "group commit to run", func() bool { return b.st.group.Load() != nil })
}

// waitFor polls cond until it holds, failing the test after ten seconds.
func (b bundle) waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited 10 s for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// pendingIssues says how many calls wait to be gathered.
func (st *Store) pendingIssues() int {
	g := st.group.Load()
	if g == nil {
		return 0
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.pending)
}

// groupResult is what one concurrent IssueToken call got.
type groupResult struct {
	req    IssueRequest
	issued IssuedToken
	err    error
}

// issueConcurrently calls IssueToken once per request, each from its own
// goroutine, and returns what each got once all have answered.
func (b bundle) issueConcurrently(reqs []IssueRequest) []groupResult {
	out := make([]groupResult, len(reqs))
	var wg sync.WaitGroup
	for i, r := range reqs {
		wg.Go(func() {
			it, err := b.st.IssueToken(b.ctx, r)
			out[i] = groupResult{req: r, issued: it, err: err}
		})
	}
	wg.Wait()
	return out
}

// issueBehindAHeldFirst issues reqs[0] alone and holds its batch, between
// reading its project and writing, until all of reqs[1:] are gathered behind
// it, to be written together as the second batch. at (if not nil) runs at
// that point of every batch, told its number (from 1) and its connection's
// process id. It returns what each call got, in the order of reqs, and how
// many writes there were (2, unless a batch was tried again call by call).
func (b bundle) issueBehindAHeldFirst(t *testing.T, reqs []IssueRequest, at func(flush int, pid uint32)) ([]groupResult, int) {
	t.Helper()
	flushes := 0 // one flush at a time (MaxFlushes 1)
	held := make(chan struct{})
	b.st.beforeIssueInsert = func(pid uint32) {
		flushes++
		if flushes == 1 {
			close(held)
			deadline := time.Now().Add(10 * time.Second)
			for b.st.pendingIssues() < len(reqs)-1 && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
			}
		}
		if at != nil {
			at(flushes, pid)
		}
	}
	var first []groupResult
	done := make(chan struct{})
	go func() {
		defer close(done)
		first = b.issueConcurrently(reqs[:1])
	}()
	<-held
	rest := b.issueConcurrently(reqs[1:])
	<-done
	return append(first, rest...), flushes
}

// wantRecordsAndEventsOf stops the test unless the token records and
// token.issue events are exactly those of the tokens answered.
func (b bundle) wantRecordsAndEventsOf(t *testing.T, results []groupResult) {
	t.Helper()
	answered := 0
	for _, r := range results {
		if r.err != nil {
			continue
		}
		answered++
		fp := token04.FingerprintSum(r.issued.Token)
		if n := b.queryInt(t, `SELECT count(*) FROM issued_tokens WHERE fingerprint = $1 AND user_id = $2`, fp[:], r.req.UserID); n != 1 {
			t.Errorf("record of the token answered to %s: got %d, want 1", r.req.UserID, n)
		}
		if n := b.queryInt(t, `SELECT count(*) FROM audit_events WHERE action = 'token.issue' AND token_fingerprint = $1`, fp[:]); n != 1 {
			t.Errorf("token.issue event of the token answered to %s: got %d, want 1", r.req.UserID, n)
		}
	}
	if n := b.queryInt(t, `SELECT count(*) FROM issued_tokens`); n != answered {
		t.Errorf("token records: got %d, want %d (the tokens answered)", n, answered)
	}
	if n := b.queryInt(t, `SELECT count(*) FROM audit_events WHERE action = 'token.issue'`); n != answered {
		t.Errorf("token.issue events: got %d, want %d (the tokens answered)", n, answered)
	}
}

// groupRequests are n requests for each of the AppIDs, user ids unique.
func groupRequests(n int, appIDs ...uint32) []IssueRequest {
	var reqs []IssueRequest
	for _, app := range appIDs {
		for i := range n {
			reqs = append(reqs, IssueRequest{AppID: app, UserID: fmt.Sprintf("user-%d-%d", app, i), Mode: token04.ModeGCM,
				Channel: ChannelAPI, Actor: testActor, Origin: testOrigin})
		}
	}
	return reqs
}

func TestGroupCommit_AProjectDisabledWhileItsCallsWereGatheredFailsOnlyThem(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.createProject(t, 1001)
	b.createProject(t, 1002)
	b.startGroupCommit(t, GroupCommit{MaxFlushes: 1})
	reqs := append(groupRequests(1, 1001), groupRequests(10, 1001, 1002)...)
	results, _ := b.issueBehindAHeldFirst(t, reqs, func(flush int, _ uint32) {
		if flush != 2 {
			return
		}
		// The second batch has read its projects and made its tokens.
		if err := b.owner.SetProjectDisabled(b.ctx, 1002, true, testActor, testOrigin); err != nil {
			t.Errorf("disable project 1002: %v", err)
		}
	})
	for _, r := range results {
		switch {
		case r.req.AppID == 1002 && !errors.Is(r.err, ErrProjectDisabled):
			t.Errorf("%s, project disabled meanwhile: got error %v, want %v", r.req.UserID, r.err, ErrProjectDisabled)
		case r.req.AppID == 1001 && (r.err != nil || r.issued.Token == ""):
			t.Errorf("%s, project still enabled: got error %v, want a token", r.req.UserID, r.err)
		}
	}
	b.wantRecordsAndEventsOf(t, results)
}

func TestGroupCommit_ARowTheDatabaseRefusesFailsOnlyItsCaller(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.createProject(t, 1001)
	if _, err := b.owner.pool.Exec(b.ctx, `
		CREATE FUNCTION refuse_mallory() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			IF NEW.user_id = 'mallory' THEN RAISE EXCEPTION 'mallory refused' USING ERRCODE = 'check_violation'; END IF;
			RETURN NEW;
		END $$;
		CREATE TRIGGER refuse_mallory BEFORE INSERT ON issued_tokens FOR EACH ROW EXECUTE FUNCTION refuse_mallory();`); err != nil {
		t.Fatal(err)
	}
	b.startGroupCommit(t, GroupCommit{MaxFlushes: 1})
	reqs := groupRequests(8, 1001)
	reqs[5].UserID = "mallory" // in the second batch
	results, writes := b.issueBehindAHeldFirst(t, reqs, nil)
	if writes != 2+len(reqs)-1 {
		t.Errorf("writes: got %d, want %d (the first call, the batch of the others, then each of them again alone)", writes, 2+len(reqs)-1)
	}
	for _, r := range results {
		if got := r.err != nil; got != (r.req.UserID == "mallory") {
			t.Errorf("%s: got error %v, want one only for mallory", r.req.UserID, r.err)
		}
	}
	b.wantRecordsAndEventsOf(t, results)
}

func TestGroupCommit_ACrashBeforeTheCommitAnswersNoTokenAndWritesNothing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.createProject(t, 1001)
	super, err := pgx.Connect(b.ctx, b.db.SuperuserURL)
	if err != nil {
		t.Fatal(err)
	}
	defer super.Close(context.WithoutCancel(b.ctx))
	b.startGroupCommit(t, GroupCommit{MaxFlushes: 1})
	reqs := groupRequests(12, 1001)
	crashes := 0
	results, _ := b.issueBehindAHeldFirst(t, reqs, func(_ int, pid uint32) {
		// The batch is gathered and made, its statement not yet sent: the
		// database connection that would commit it dies.
		crashes++
		if _, err := super.Exec(b.ctx, `SELECT pg_terminate_backend($1::int, 5000)`, int64(pid)); err != nil || pid == 0 {
			t.Errorf("terminate backend %d: %v", pid, err)
		}
	})
	answered := 0
	for _, r := range results {
		if r.err == nil {
			answered++
		}
	}
	if crashes != 2 || answered != 0 {
		t.Errorf("batches that crashed: %d, callers answered a token: %d; want 2 and none", crashes, answered)
	}
	b.wantRecordsAndEventsOf(t, results)

	b.st.beforeIssueInsert = nil
	if _, err := b.st.IssueToken(b.ctx, reqs[0]); err != nil {
		t.Fatalf("issue after the crash: %v", err)
	}
}

func TestGroupCommit_ManyConcurrentCallsEachGetTheirOwnCommittedToken(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.createProject(t, 1001)
	b.createProject(t, 1002)
	b.startGroupCommit(t, GroupCommit{MaxBatch: 7})
	results := b.issueConcurrently(groupRequests(40, 1001, 1002))
	seen := map[string]bool{}
	for _, r := range results {
		if r.err != nil {
			t.Fatalf("%s: %v", r.req.UserID, r.err)
		}
		if r.issued.Record.UserID != r.req.UserID || uint32(r.issued.Record.AppID) != r.req.AppID || seen[r.issued.Token] {
			t.Fatalf("%s of %d: got a record of %s of %d (token seen before: %v)", r.req.UserID, r.req.AppID,
				r.issued.Record.UserID, r.issued.Record.AppID, seen[r.issued.Token])
		}
		seen[r.issued.Token] = true
	}
	b.wantRecordsAndEventsOf(t, results)
}
