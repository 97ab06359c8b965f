package store

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// lockCycle runs work, a call through a store of the runtime role of its
// own (another console's worker, say), beside a stand-in session of the
// superuser, so that the two deadlock if work holds a table while it waits
// for one: the stand-in runs first in a transaction; work starts and is held
// up by it (waits for its lock, or sleeps before trying again); then the
// stand-in runs second, which waits for whatever work holds, and lets all
// go. It returns second's error and work's.
//
// Of the sessions in a lock cycle, PostgreSQL ends the one whose
// deadlock_timeout runs out first once it waits, if the cycle is closed by
// then: work, which waits first, is given a second (time enough for the
// stand-in to close the cycle), the stand-in a minute. So work is the victim.
func (b bundle) lockCycle(t *testing.T, first, second string, work func(st *Store) error) (secondErr, workErr error) {
	t.Helper()
	ctx := b.ctx
	connect := func() *pgx.Conn {
		t.Helper()
		conn, err := pgx.Connect(ctx, b.db.SuperuserURL)
		if err != nil {
			t.Fatalf("connect as superuser: %v", err)
		}
		t.Cleanup(func() { conn.Close(context.WithoutCancel(ctx)) })
		return conn
	}
	standIn, watcher := connect(), connect()
	mustExec(t, ctx, standIn, `ALTER DATABASE `+pgx.Identifier{standIn.Config().Database}.Sanitize()+` SET deadlock_timeout = '1s'`)
	mustExec(t, ctx, standIn, `SET deadlock_timeout = '1min'`)
	st := b.open(t) // its sessions start with the database's deadlock_timeout
	tx, err := standIn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // no-op once rolled back
	mustExec(t, ctx, tx, first)
	done := make(chan error, 1)
	go func() { done <- work(st) }()
	b.waitFor(t, "the worker to be held up by the stand-in", func() bool {
		select {
		case err := <-done:
			t.Fatalf("the worker finished (%v) without waiting for the stand-in's %s", err, first)
		default:
		}
		var heldUp bool
		if err := watcher.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_stat_activity
			WHERE datname = current_database() AND usename = $1 AND state = 'active'
				AND (wait_event_type = 'Lock' OR wait_event = 'PgSleep'))`, b.db.RuntimeRole).Scan(&heldUp); err != nil {
			t.Fatal(err)
		}
		return heldUp
	})
	_, secondErr = tx.Exec(ctx, second)
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	return secondErr, <-done
}

func TestAuditPartitions_TheMakerWaitsForAReaderOfTheTrailWithoutHoldingWhatItReadsNext(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.audit(t, 1)
	b.sealAll(t)
	// The stand-in reads as the text indexer does: the texts, then the
	// events. The migration made the current month and the next three.
	added := 0
	readErr, err := b.lockCycle(t, `SELECT count(*) FROM audit_text`, `SELECT count(*) FROM audit_events`,
		func(st *Store) (err error) {
			added, err = st.EnsureAuditPartitions(b.ctx, AuditMonthsAhead+1)
			return err
		})
	if readErr != nil {
		t.Fatalf("the reader's read of the events while the partition maker waits: %v; want it answered", readErr)
	}
	if err != nil || added != 1 {
		t.Fatalf("EnsureAuditPartitions beside a reader: got %d, %v; want 1 month added once the reader is done", added, err)
	}
	ahead := "p" + monthStart(time.Now(), AuditMonthsAhead+1).Format("200601")
	for _, table := range []string{"audit_events_", "audit_chain_", "audit_text_"} {
		if !b.partitionExists(t, table+ahead) {
			t.Errorf("%s%s was not made", table, ahead)
		}
	}
}
