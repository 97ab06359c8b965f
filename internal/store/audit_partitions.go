package store

import (
	"context"
	"fmt"
	"regexp"
	"time"

	"github.com/jackc/pgx/v5"
)

// AuditMonthsAhead is how many months after the current one the server
// keeps partitions of the audit trail ready (migration 00014).
const AuditMonthsAhead = 3

// EnsureAuditPartitions creates the monthly partitions of the audit trail
// (events, chain, text) for the current month and the next months months
// that are missing, and says how many months it added. The server runs it
// at start and daily; the runtime role may, through audit_partitions_ahead,
// which runs as the schema owner and can create nothing else. Should it not
// run, events land in the default partitions: nothing is refused.
func (s *Store) EnsureAuditPartitions(ctx context.Context, months int) (int, error) {
	var added int
	if err := s.pool.QueryRow(ctx, `SELECT audit_partitions_ahead($1)`, months).Scan(&added); err != nil {
		return 0, fmt.Errorf("store: audit partitions: %w", err)
	}
	return added, nil
}

// coverAuditMonths creates the partitions of the months from first through
// last (the schema owner only: the dev seed writes the past).
func coverAuditMonths(ctx context.Context, db dbtx, first, last time.Time) error {
	if _, err := db.Exec(ctx, `SELECT audit_partitions_cover($1, $2)`, first, last); err != nil {
		return fmt.Errorf("store: audit partitions: %w", err)
	}
	return nil
}

// auditMonthName is the name of a month's partition of audit_events, which
// audit_partitions_cover gives it; the chain's and the text's are alike.
var auditMonthName = regexp.MustCompile(`^audit_events_p(\d{4})(\d{2})$`)

// auditMonth is a month's partitions of the trail.
type auditMonth struct {
	suffix string    // "pYYYYMM"
	end    time.Time // the first instant after the month (UTC)
}

// start is the month's first instant (UTC).
func (m auditMonth) start() time.Time { return m.end.AddDate(0, -1, 0) }

// auditMonthsBefore lists the months whose partitions end at or before cut,
// oldest first.
func auditMonthsBefore(ctx context.Context, tx pgx.Tx, cut time.Time) ([]auditMonth, error) {
	rows, err := tx.Query(ctx, `SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		WHERE i.inhparent = 'audit_events'::regclass ORDER BY 1`)
	if err != nil {
		return nil, fmt.Errorf("store: prune audit: partitions: %w", err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("store: prune audit: partitions: %w", err)
	}
	var months []auditMonth
	for _, name := range names {
		m := auditMonthName.FindStringSubmatch(name)
		if m == nil {
			continue
		}
		start, err := time.Parse("200601", m[1]+m[2])
		if err != nil {
			continue
		}
		if end := start.AddDate(0, 1, 0); !end.After(cut) {
			months = append(months, auditMonth{suffix: "p" + m[1] + m[2], end: end})
		}
	}
	return months, nil
}

// detachAuditMonths takes out of the trail, oldest first, the months whose
// every event lies in the chain's prefix up to through and is sealed, as
// partitions: the month's events, chain positions and texts leave the trail
// at once, whatever their number. It stops at the first month that holds
// anything else (an event sealed after through, or waiting for its seal):
// the rest of the prefix is deleted row by row. It says which months went.
//
// The months' tables are detached and renamed audit_pruned_…, not dropped:
// dropping them removes their files when the transaction commits, which
// for a month of a million events (events with nine indexes, chain, text)
// took over a second with the trail locked. dropPrunedMonths removes them
// once the prune has committed.
func detachAuditMonths(ctx context.Context, tx pgx.Tx, cut time.Time, through int64) (months []string, err error) {
	candidates, err := auditMonthsBefore(ctx, tx, cut)
	if err != nil {
		return nil, err
	}
	for _, m := range candidates {
		events, chain, text := "audit_events_"+m.suffix, "audit_chain_"+m.suffix, "audit_text_"+m.suffix
		// No insert or seal may reach the month while it is checked and taken out.
		if _, err := tx.Exec(ctx, `LOCK TABLE `+events+`, `+chain+`, `+text+` IN ACCESS EXCLUSIVE MODE`); err != nil {
			return months, fmt.Errorf("store: prune audit: lock %s: %w", events, err)
		}
		// Every event is on the seal queue or in the chain (a trigger and
		// audit_seal see to it), in the chain partition of its month.
		var whole bool
		if err := tx.QueryRow(ctx, `SELECT COALESCE((SELECT max(chain_seq) FROM `+chain+`), 0) <= $1
				AND NOT EXISTS (SELECT 1 FROM audit_unsealed WHERE occurred_at >= $2 AND occurred_at < $3)`,
			through, m.start(), m.end).Scan(&whole); err != nil {
			return months, fmt.Errorf("store: prune audit: check %s: %w", events, err)
		}
		if !whole {
			break
		}
		if _, err := tx.Exec(ctx, `DELETE FROM audit_unindexed WHERE occurred_at >= $1 AND occurred_at < $2`, m.start(), m.end); err != nil {
			return months, fmt.Errorf("store: prune audit: %w", err)
		}
		for _, t := range []string{"audit_text", "audit_chain", "audit_events"} {
			if _, err := tx.Exec(ctx, `ALTER TABLE `+t+` DETACH PARTITION `+t+`_`+m.suffix); err != nil {
				return months, fmt.Errorf("store: prune audit: detach %s_%s: %w", t, m.suffix, err)
			}
			if _, err := tx.Exec(ctx, `ALTER TABLE `+t+`_`+m.suffix+` RENAME TO `+prunedPrefix+t[len("audit_"):]+`_`+m.suffix); err != nil {
				return months, fmt.Errorf("store: prune audit: set aside %s_%s: %w", t, m.suffix, err)
			}
		}
		months = append(months, m.start().Format("2006-01"))
	}
	return months, nil
}

// prunedPrefix begins the names of the tables of months a prune took out
// of the trail, until dropPrunedMonths drops them.
const prunedPrefix = "audit_pruned_"

// dropPrunedMonths drops the tables of the months that prunes took out of
// the trail (those of this prune, and any that an earlier one left when it
// stopped before dropping them), each in a transaction of its own: the
// trail is not locked meanwhile.
func (s *Store) dropPrunedMonths(ctx context.Context) error {
	rows, err := s.pool.Query(ctx, `SELECT tablename::text FROM pg_tables
		WHERE schemaname = current_schema() AND starts_with(tablename, $1) ORDER BY 1`, prunedPrefix)
	if err != nil {
		return fmt.Errorf("store: prune audit: pruned months: %w", err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("store: prune audit: pruned months: %w", err)
	}
	for _, name := range names {
		if _, err := s.pool.Exec(ctx, `DROP TABLE IF EXISTS `+pgx.Identifier{name}.Sanitize()); err != nil {
			return fmt.Errorf("store: prune audit: drop %s: %w", name, err)
		}
	}
	return nil
}
