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

func TestIndexAuditText_ADeadlockWithThePartitionMakerIsTriedAgainAndTheEventIndexedOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	e := auditTestEvent(1)
	e.TargetID = "deadlock-needle"
	if err := b.st.Audit(b.ctx, e); err != nil {
		t.Fatal(err)
	}
	if n, err := b.st.SealPending(b.ctx, 0); err != nil || n != 1 {
		t.Fatalf("seal: got %d, %v; want 1", n, err)
	}
	// The stand-in does what CREATE TABLE … PARTITION OF does for a month of
	// the events and then of the texts; the indexer holds the texts (it adds
	// to them) when it comes to read the events.
	indexed := 0
	lockErr, err := b.lockCycle(t, `LOCK TABLE ONLY audit_events IN ACCESS EXCLUSIVE MODE`,
		`LOCK TABLE ONLY audit_text IN ACCESS EXCLUSIVE MODE`, func(st *Store) (err error) {
			indexed, err = st.IndexAuditText(b.ctx)
			return err
		})
	if lockErr != nil {
		t.Fatalf("the stand-in's lock of the texts: %v; want it granted once the indexer gave way", lockErr)
	}
	if err != nil || indexed != 1 {
		t.Fatalf("IndexAuditText in a deadlock with the partition maker: got %d, %v; want 1, nil (the batch tried again)", indexed, err)
	}
	if n := b.queryInt(t, `SELECT count(*) FROM audit_text WHERE body LIKE '%deadlock-needle%'`); n != 1 {
		t.Errorf("texts of the event: got %d, want 1", n)
	}
	if n := b.queryInt(t, `SELECT count(*) FROM audit_unindexed`); n != 0 {
		t.Errorf("events waiting for the text indexer: got %d, want 0", n)
	}
	if page, err := b.st.ListAudit(b.ctx, AuditFilter{Text: "deadlock-needle"}, "", 10); err != nil || len(page.Events) != 1 {
		t.Errorf("free text: got %d events, %v; want 1", len(page.Events), err)
	}
}

func TestSealPending_ADeadlockVictimIsTriedAgainAndSealsEachEventOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.audit(t, 3)
	// Nothing in the console takes the chain before the events (the
	// partition maker takes events, chain, text, as the sealer takes events,
	// chain); the stand-in is whatever else may, an operator's DDL say.
	sealed := 0
	lockErr, err := b.lockCycle(t, `LOCK TABLE ONLY audit_chain IN ACCESS EXCLUSIVE MODE`,
		`LOCK TABLE ONLY audit_events IN ACCESS EXCLUSIVE MODE`, func(st *Store) (err error) {
			sealed, err = st.SealPending(b.ctx, 0)
			return err
		})
	if lockErr != nil {
		t.Fatalf("the stand-in's lock of the events: %v; want it granted once the sealer gave way", lockErr)
	}
	if err != nil || sealed != 3 {
		t.Fatalf("SealPending in a deadlock: got %d, %v; want 3, nil (the batch tried again)", sealed, err)
	}
	if r := b.mustVerifyOK(t); r.Events != 3 {
		t.Errorf("sealed events: got %d, want 3", r.Events)
	}
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
