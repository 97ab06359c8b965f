package webtest

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// HeldLock is a table locked by the schema owner, which makes whatever the
// console does with that table wait: the way tests hold a request at a
// known point without a hook in the code.
type HeldLock struct {
	tx      pgx.Tx
	release func()
}

// HoldLock locks table in ACCESS EXCLUSIVE mode as the schema owner until
// Release or the end of the test.
func (e *Env) HoldLock(t *testing.T, table string) *HeldLock {
	t.Helper()
	ctx := context.WithoutCancel(t.Context())
	conn, err := pgx.Connect(ctx, e.DB.OwnerURL)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `LOCK TABLE `+pgx.Identifier{table}.Sanitize()+` IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	l := &HeldLock{tx: tx, release: func() {
		_ = tx.Rollback(ctx)
		_ = conn.Close(ctx)
	}}
	t.Cleanup(l.Release)
	return l
}

// Release lets the waiting sessions go on. It may be called more than once.
func (l *HeldLock) Release() {
	if l.release != nil {
		l.release()
		l.release = nil
	}
}

// Waiters counts the sessions that wait for the locked table in mode, a
// pg_locks mode such as AccessShareLock (a SELECT) or RowExclusiveLock (an
// INSERT); "" counts them all.
func (l *HeldLock) Waiters(t *testing.T, mode string) int {
	t.Helper()
	var n int
	if err := l.tx.QueryRow(t.Context(), `SELECT count(*) FROM pg_locks l
		WHERE NOT l.granted AND l.relation IN (SELECT relation FROM pg_locks WHERE pid = pg_backend_pid() AND granted AND relation IS NOT NULL)
			AND ($1 = '' OR l.mode = $1)`, mode).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// WaitFor polls until some session waits for the locked table in mode, and
// fails the test with what after 30 s.
func (l *HeldLock) WaitFor(t *testing.T, mode, what string) {
	t.Helper()
	WaitUntil(t, 30*time.Second, what, func() bool { return l.Waiters(t, mode) > 0 })
}

// WaitUntil polls cond every few milliseconds until it holds, failing the
// test with what after timeout.
func WaitUntil(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not reached within %v", what, timeout)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
