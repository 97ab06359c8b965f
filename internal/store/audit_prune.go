package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// ErrAuditChainBroken means the audit chain does not verify; pruning refuses
// to run then, as it could delete the evidence of the break.
var ErrAuditChainBroken = errors.New("audit chain does not verify")

// ActionAuditPrune is the audit action that records a prune.
const ActionAuditPrune = "audit.prune"

// PruneAudit deletes the oldest events, those that occurred before before,
// and leaves a signed prune checkpoint where they were so that the rest of
// the chain still verifies. Whole months before before go as partitions
// (dropped, whatever their size: a cut-off on a month boundary costs no row
// deletes); the events of a partial month, and of a month that holds an
// event sealed after the cut, are deleted row by row. It deletes a prefix of the chain: it stops at the
// first event (in chain order) that occurred at or after before, so an
// older event sealed after a newer one stays. It first verifies the chain and
// refuses with ErrAuditChainBroken when that fails. Only the schema owner
// may prune (others get ErrPermissionDenied). Sealing the pending
// events, the checkpoint, the deletion and the audit.prune event (details:
// before, deleted, through_seq) commit in one transaction.
func (s *Store) PruneAudit(ctx context.Context, before time.Time, actor Actor, origin Origin) (deleted int64, err error) {
	r, err := s.PruneAuditReport(ctx, before, actor, origin)
	return r.Deleted, err
}

// PruneResult tells what PruneAuditReport did and how long it took.
type PruneResult struct {
	Deleted       int64         // events deleted in all
	AsPartitions  int64         // of them, those of whole months dropped as partitions
	DroppedMonths []string      // those months, "2006-01", oldest first
	Verify        time.Duration // verifying the chain first
	Prune         time.Duration // the prune's own transaction, the trail locked
	Drop          time.Duration // dropping the dropped months' tables after it, the trail not locked
	DropErr       error         // why those tables are still there (the next prune drops them)
}

// PruneAuditReport is PruneAudit, telling what went how and the time each
// step took.
func (s *Store) PruneAuditReport(ctx context.Context, before time.Time, actor Actor, origin Origin) (PruneResult, error) {
	var res PruneResult
	if before.IsZero() || before.After(time.Now()) {
		return res, fmt.Errorf("store: prune audit: the cut-off must be a time in the past, not %s", before.Format(time.RFC3339))
	}
	start := time.Now()
	report, err := s.VerifyAuditChain(ctx)
	if err != nil {
		return res, fmt.Errorf("store: prune audit: %w", err)
	}
	if !report.OK {
		return res, fmt.Errorf("store: prune audit: %w: %s", ErrAuditChainBroken, report.Message)
	}
	res.Verify = time.Since(start)
	keys, err := s.macKeys()
	if err != nil {
		return res, err
	}
	start = time.Now()
	var deleted, dropped int64
	months := []string{}
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, auditSealLock); err != nil {
			return fmt.Errorf("store: prune audit: lock: %w", err)
		}
		for {
			n, err := s.sealLocked(ctx, tx, auditSealBatch)
			if err != nil {
				return err
			}
			if n < auditSealBatch {
				break
			}
		}
		through, err := pruneThrough(ctx, tx, before)
		if err != nil {
			return err
		}
		var throughSeq *int64
		if through != nil {
			throughSeq = &through.seq
			mac := checkpointMAC(keys[0], "prune", through.seq, through.hash)
			if _, err := tx.Exec(ctx, `INSERT INTO audit_checkpoints (chain_seq, hash, mac, kind) VALUES ($1, $2, $3, 'prune')
				ON CONFLICT (chain_seq) DO UPDATE SET hash = $2, mac = $3, kind = 'prune', created_at = now()`,
				through.seq, through.hash, mac); err != nil {
				return fmt.Errorf("store: prune audit: checkpoint: %w", err)
			}
			// The chain is contiguous (it verified): the prefix holds
			// through - first + 1 events, those the drops take and the rest.
			var first int64
			if err := tx.QueryRow(ctx, `SELECT min(chain_seq) FROM audit_chain`).Scan(&first); err != nil {
				return fmt.Errorf("store: prune audit: %w", err)
			}
			if months, err = detachAuditMonths(ctx, tx, before, through.seq); err != nil {
				return err
			}
			// The append-only trigger lets rows go only while this is on.
			if _, err := tx.Exec(ctx, `SELECT set_config('console.audit_prune', 'on', true)`); err != nil {
				return fmt.Errorf("store: prune audit: %w", err)
			}
			tag, err := tx.Exec(ctx, `WITH gone AS (DELETE FROM audit_chain WHERE chain_seq <= $1 RETURNING event_id, occurred_at),
				text AS (DELETE FROM audit_text t USING gone g WHERE t.event_id = g.event_id AND t.occurred_at = g.occurred_at),
				unindexed AS (DELETE FROM audit_unindexed WHERE event_id IN (SELECT event_id FROM gone))
				DELETE FROM audit_events e USING gone g WHERE e.id = g.event_id AND e.occurred_at = g.occurred_at`, through.seq)
			if err != nil {
				return fmt.Errorf("store: prune audit: delete: %w", err)
			}
			deleted = through.seq - first + 1
			dropped = deleted - tag.RowsAffected()
			if _, err := tx.Exec(ctx, `SELECT set_config('console.audit_prune', 'off', true)`); err != nil {
				return fmt.Errorf("store: prune audit: %w", err)
			}
			// Checkpoints of deleted events vouch for nothing any more.
			if _, err := tx.Exec(ctx, `DELETE FROM audit_checkpoints WHERE chain_seq < $1`, through.seq); err != nil {
				return fmt.Errorf("store: prune audit: old checkpoints: %w", err)
			}
		}
		if err := s.insertAudit(ctx, tx, Event{Actor: actor, Origin: origin, Action: ActionAuditPrune, Outcome: OutcomeSuccess,
			TargetType: "audit_trail", Details: map[string]any{
				"before": before.UTC().Format(time.RFC3339Nano), "deleted": deleted, "through_seq": throughSeq,
				"dropped_months": months, "deleted_as_partitions": dropped,
			}}); err != nil {
			return err
		}
		_, err = s.sealLocked(ctx, tx, auditSealBatch) // the prune event itself
		return err
	})
	if err != nil {
		return res, permissionDenied(err) // the runtime role may not prune: the schema owner does
	}
	res.Deleted, res.AsPartitions, res.DroppedMonths, res.Prune = deleted, dropped, months, time.Since(start)
	start = time.Now()
	if err := s.dropPrunedMonths(ctx); err != nil {
		// The prune stands: the months are out of the trail, and the next
		// prune drops their tables.
		res.DropErr = err
	}
	res.Drop = time.Since(start)
	return res, nil
}

// AuditPrunePreview tells how many sealed events PruneAudit(before) would
// delete now, and the last chain position it would delete (0 for none).
func (s *Store) AuditPrunePreview(ctx context.Context, before time.Time) (events, throughSeq int64, err error) {
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		through, err := pruneThrough(ctx, tx, before)
		if err != nil || through == nil {
			return err
		}
		throughSeq = through.seq
		return tx.QueryRow(ctx, `SELECT count(*) FROM audit_chain WHERE chain_seq <= $1`, through.seq).Scan(&events)
	})
	if err != nil {
		return 0, 0, fmt.Errorf("store: prune audit preview: %w", err)
	}
	return events, throughSeq, nil
}

// pruneThrough finds the last chain position a prune before before may
// delete: just before the first sealed event that occurred at or after
// before, or the end of the chain. It is nil when nothing would go. The
// chain's months from before's on are all it reads (each position carries
// its event's time): joined to the events, finding the cut read every
// position before it (1.7 s against 3 ms, cut after 1.3 M of 2.25 M events).
func pruneThrough(ctx context.Context, tx pgx.Tx, before time.Time) (*chainPoint, error) {
	var p chainPoint
	err := tx.QueryRow(ctx, `WITH bounds AS (
			SELECT (SELECT min(chain_seq) FROM audit_chain) AS first,
				COALESCE((SELECT min(chain_seq) - 1 FROM audit_chain WHERE occurred_at >= $1),
					(SELECT max(chain_seq) FROM audit_chain)) AS through)
		SELECT c.chain_seq, c.hash FROM bounds b JOIN audit_chain c ON c.chain_seq = b.through
		WHERE b.through >= b.first`, before).Scan(&p.seq, &p.hash)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: prune audit: find cut: %w", err)
	}
	return &p, nil
}
