package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// ActionAuditResign is the audit action that records a re-signing of the
// chain under a new MAC key.
const ActionAuditResign = "audit.resign"

// AuditResign says what ResignAuditChain signed again.
type AuditResign struct {
	Head        bool // the signed head
	Checkpoints int  // checkpoints, a prune anchor included
}

// ResignAuditChain signs again, under the current MAC key, the chain head
// and every checkpoint that another configured key signed, so that after a
// key rotation the old key can be dropped and the chain still verifies
// (and the sealer still trusts its head). Under the sealing lock it first
// verifies the whole chain with every configured key and refuses a chain
// that does not verify (ErrAuditChainBroken): signing again must never
// vouch for a break. The new MACs commit with an audit.resign event; when
// nothing needs signing again, nothing is written.
func (s *Store) ResignAuditChain(ctx context.Context, actor Actor, origin Origin) (AuditResign, error) {
	keys, err := s.macKeys()
	if err != nil {
		return AuditResign{}, err
	}
	var out AuditResign
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		// Read committed, so that each statement after the lock sees the
		// chain the last sealer left; no one moves it while the lock is held.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, auditSealLock); err != nil {
			return fmt.Errorf("lock: %w", err)
		}
		v := chainVerifier{keys: keys}
		if err := v.run(ctx, tx); err != nil {
			return fmt.Errorf("verify: %w", err)
		}
		if !v.report.OK {
			return fmt.Errorf("%w at seq %d (%s): %s", ErrAuditChainBroken, v.report.BreakSeq, v.report.BreakKind, v.report.Message)
		}
		stale, err := staleChainPoints(ctx, tx, keys)
		if err != nil {
			return err
		}
		seqs, oldMACs, newMACs := []int64{}, [][]byte{}, [][]byte{}
		var headSeq *int64
		var headOld, headNew []byte
		for _, p := range stale {
			mac := checkpointMAC(keys[0], p.kind, p.seq, p.hash)
			if p.kind == "head" {
				headSeq, headOld, headNew = &p.seq, p.mac, mac
				continue
			}
			seqs, oldMACs, newMACs = append(seqs, p.seq), append(oldMACs, p.mac), append(newMACs, mac)
		}
		out = AuditResign{Head: headSeq != nil, Checkpoints: len(seqs)}
		if len(stale) == 0 {
			return nil
		}
		if _, err := tx.Exec(ctx, `SELECT audit_resign($1, $2, $3, $4, $5, $6)`,
			seqs, oldMACs, newMACs, headSeq, headOld, headNew); err != nil {
			return err
		}
		return s.insertAudit(ctx, tx, Event{Actor: actor, Origin: origin, Action: ActionAuditResign, Outcome: OutcomeSuccess,
			TargetType: "audit_trail", Details: map[string]any{"head": out.Head, "checkpoints": out.Checkpoints}})
	})
	if err != nil {
		return AuditResign{}, fmt.Errorf("store: re-sign audit chain: %w", err)
	}
	return out, nil
}

// staleChainPoints returns the checkpoints and the head (kind "head") that
// a key other than the signing one signed. One that no configured key
// signed is an error: verification passed, so it is one it does not reach,
// and it is not for a rotation to vouch for it.
func staleChainPoints(ctx context.Context, tx pgx.Tx, keys [][]byte) ([]chainPoint, error) {
	rows, err := tx.Query(ctx, `SELECT chain_seq, hash, mac, kind FROM audit_checkpoints
		UNION ALL SELECT chain_seq, hash, mac, 'head' FROM audit_chain_head ORDER BY 1, 4`)
	if err != nil {
		return nil, fmt.Errorf("read checkpoints: %w", err)
	}
	points, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (chainPoint, error) {
		var p chainPoint
		err := r.Scan(&p.seq, &p.hash, &p.mac, &p.kind)
		return p, err
	})
	if err != nil {
		return nil, fmt.Errorf("read checkpoints: %w", err)
	}
	var stale []chainPoint
	for _, p := range points {
		switch {
		case checkpointMACValid(keys[:1], p.kind, p.seq, p.hash, p.mac):
		case checkpointMACValid(keys, p.kind, p.seq, p.hash, p.mac):
			stale = append(stale, p)
		default:
			return nil, fmt.Errorf("%w: the %s at seq %d is signed with none of the configured keys", ErrAuditChainBroken, p.kind, p.seq)
		}
	}
	return stale, nil
}
