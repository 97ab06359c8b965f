package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Revocation is one entry of the revocation feed: a revoked token, numbered
// by Seq in the order the revocations committed (migration 00008 says why
// no entry can commit behind a number a reader has already passed).
type Revocation struct {
	Seq         int64     `db:"seq"`
	AppID       int64     `db:"app_id"`
	TokenID     string    `db:"token_id"`
	Fingerprint []byte    `db:"fingerprint"`
	UserID      string    `db:"user_id"`
	RoomID      string    `db:"room_id"`
	Expire      time.Time `db:"expire"`
	RevokedAt   time.Time `db:"revoked_at"`
}

// RevocationPage is one read of the feed.
type RevocationPage struct {
	Revocations []Revocation
	// Cursor is where the next read starts (its after): the last entry's
	// seq when the page is full, else the feed's head, past entries of
	// projects the reader does not see.
	Cursor int64
}

// RevocationSnapshot is every revocation of an unexpired token, and the
// seq to follow the feed from.
type RevocationSnapshot struct {
	Seq         int64
	Revocations []Revocation
}

// ErrFeedCursorGone means a cursor older than what the feed keeps (entries
// after it may have been pruned), or one the feed never gave: the reader
// starts again from a snapshot.
var ErrFeedCursorGone = errors.New("the revocation feed no longer holds what follows this cursor")

// MaxRevocationPage bounds one read of the feed.
const MaxRevocationPage = 1000

const revocationColumns = `seq, app_id, token_id::text AS token_id, fingerprint, user_id, room_id, expire, revoked_at`

// readFeed runs fn in a read-only repeatable-read transaction: one snapshot
// for the feed's counter and its entries.
func (s *Store) readFeed(ctx context.Context, fn func(tx pgx.Tx, head, horizon int64) error) error {
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		var head, horizon int64
		if err := tx.QueryRow(ctx, `SELECT seq, horizon FROM revocation_feed`).Scan(&head, &horizon); err != nil {
			return fmt.Errorf("store: revocation feed: %w", err)
		}
		return fn(tx, head, horizon)
	})
	if err != nil && !errors.Is(err, ErrFeedCursorGone) {
		return fmt.Errorf("store: revocation feed: %w", err)
	}
	return err
}

// RevocationsAfter reads up to limit entries of the projects appIDs that
// follow the cursor after, oldest first.
func (s *Store) RevocationsAfter(ctx context.Context, appIDs []int64, after int64, limit int) (RevocationPage, error) {
	limit = min(max(limit, 1), MaxRevocationPage)
	var page RevocationPage
	err := s.readFeed(ctx, func(tx pgx.Tx, head, horizon int64) error {
		if after < horizon || after > head {
			return ErrFeedCursorGone
		}
		rows, _ := tx.Query(ctx, `SELECT `+revocationColumns+` FROM revocations
			WHERE seq > $1 AND app_id = ANY($2) ORDER BY seq LIMIT $3`, after, appIDs, limit)
		var err error
		if page.Revocations, err = pgx.CollectRows(rows, pgx.RowToStructByName[Revocation]); err != nil {
			return err
		}
		page.Cursor = head
		if n := len(page.Revocations); n == limit {
			page.Cursor = page.Revocations[n-1].Seq
		}
		return nil
	})
	return page, err
}

// RevocationSnapshotOf returns every revocation of an unexpired token of
// the projects appIDs and the seq the feed had then.
func (s *Store) RevocationSnapshotOf(ctx context.Context, appIDs []int64) (RevocationSnapshot, error) {
	var snap RevocationSnapshot
	err := s.readFeed(ctx, func(tx pgx.Tx, head, _ int64) error {
		rows, _ := tx.Query(ctx, `SELECT `+revocationColumns+` FROM revocations
			WHERE app_id = ANY($1) AND expire > now() ORDER BY seq`, appIDs)
		var err error
		snap.Seq = head
		snap.Revocations, err = pgx.CollectRows(rows, pgx.RowToStructByName[Revocation])
		return err
	})
	return snap, err
}

// PruneRevocations drops the feed's entries of tokens that expired before
// expiredBefore and moves its horizon past them, so that a reader whose
// cursor is older learns it may have missed entries (ErrFeedCursorGone).
func (s *Store) PruneRevocations(ctx context.Context, expiredBefore time.Time) (int64, error) {
	var n int64
	err := s.pool.QueryRow(ctx, `
		WITH gone AS (DELETE FROM revocations WHERE expire < $1 RETURNING seq),
		moved AS (UPDATE revocation_feed SET horizon = greatest(horizon, (SELECT max(seq) FROM gone))
			WHERE EXISTS (SELECT 1 FROM gone) RETURNING 1)
		SELECT count(*) FROM gone`, expiredBefore).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: prune revocation feed: %w", err)
	}
	return n, nil
}
