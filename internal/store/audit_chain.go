package store

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
)

// ErrAuditChainHead means the end of the chain in audit_events is not the
// signed head the last sealer left: events were appended or removed behind
// its back, or the MAC keys changed without keeping the old one. The sealer
// refuses to extend (and so to vouch for) such a chain.
var ErrAuditChainHead = errors.New("audit chain end does not match its signed head")

// auditSealLock is the advisory lock key of sealing: one sealing transaction
// at a time across every console instance ("zcaudit1"). audit_seal in
// migrations/00003 takes it too, by its decimal value.
const auditSealLock int64 = 0x7a63_6175_6469_7431

const (
	auditSealBatch         = 1000       // events per sealing transaction in RunSealer
	auditCheckpointEvery   = 1000       // a periodic checkpoint at least every so many events…
	auditCheckpointMaxAge  = "1 minute" // …or when the last one is older than this
	auditMACPurpose        = "audit-checkpoint"
	auditSealerLogInterval = time.Minute // how often a persisting failure is logged again
	auditDefaultSealTick   = 250 * time.Millisecond
)

// SetAuditMACKeys sets the keys of checkpoint MACs: the first signs, all
// verify (keep an old key while checkpoints signed with it remain). Without
// it the keys are derived from the master keys. Call it before sealing.
func (s *Store) SetAuditMACKeys(keys [][]byte) {
	s.auditMACKeys = nil
	for _, k := range keys {
		if len(k) > 0 {
			s.auditMACKeys = append(s.auditMACKeys, bytes.Clone(k))
		}
	}
}

// macKeys returns the checkpoint MAC keys, signing key first.
func (s *Store) macKeys() ([][]byte, error) {
	if len(s.auditMACKeys) > 0 {
		return s.auditMACKeys, nil
	}
	if s.keys != nil {
		if k := s.keys.DerivedKeys(auditMACPurpose); len(k) > 0 {
			return k, nil
		}
	}
	return nil, errors.New("store: no audit checkpoint key: set an audit key or a master key")
}

// SealPending gives up to max unsealed committed events, oldest id first,
// their place in the hash chain. It returns 0 at once when another instance
// is sealing. Chain order is sealing order: an event whose transaction
// committed late is simply sealed in a later round. A batch that PostgreSQL
// ends as a deadlock's victim is tried again at once.
func (s *Store) SealPending(ctx context.Context, max int) (sealed int, err error) {
	if max <= 0 {
		max = auditSealBatch
	}
	err = retryDeadlocked(ctx, func() error {
		sealed = 0
		return s.inTx(ctx, func(tx pgx.Tx) error {
			var locked bool
			if err := tx.QueryRow(ctx, `SELECT pg_try_advisory_xact_lock($1)`, auditSealLock).Scan(&locked); err != nil {
				return fmt.Errorf("store: seal audit: lock: %w", err)
			}
			if !locked {
				return nil
			}
			var err error
			sealed, err = s.sealLocked(ctx, tx, max)
			return err
		})
	})
	if err != nil {
		return 0, err
	}
	return sealed, nil
}

// sealLocked seals up to max events in tx, which holds auditSealLock. The
// hashes are computed here; audit_seal (migrations/00003) writes them, the
// signed head and any checkpoint as the schema owner, so that the runtime
// role, which may not UPDATE an event, never rewrites one itself.
func (s *Store) sealLocked(ctx context.Context, tx pgx.Tx, max int) (int, error) {
	rows, err := tx.Query(ctx, `SELECT `+auditColumns+` FROM audit_trail
		WHERE (id, occurred_at) IN (SELECT event_id, occurred_at FROM audit_unsealed ORDER BY event_id LIMIT $1) ORDER BY id`, max)
	if err != nil {
		return 0, fmt.Errorf("store: seal audit: select: %w", err)
	}
	events, err := pgx.CollectRows(rows, pgx.RowToStructByName[AuditEvent])
	if err != nil {
		return 0, fmt.Errorf("store: seal audit: select: %w", err)
	}
	if len(events) == 0 {
		return 0, nil
	}
	keys, err := s.macKeys()
	if err != nil {
		return 0, err
	}
	tip, prev, err := checkedChainTip(ctx, tx, keys)
	if err != nil {
		return 0, err
	}
	seq := tip
	ids := make([]int64, len(events))
	hashes := make([][]byte, len(events))
	var h chainHasher
	for i := range events {
		seq++
		sum := h.sum(prev, seq, &events[i])
		ids[i], hashes[i] = events[i].ID, sum[:]
		prev = hashes[i]
	}
	var due bool
	if err := tx.QueryRow(ctx, `SELECT NOT EXISTS (SELECT 1 FROM audit_checkpoints
		WHERE chain_seq > $1::bigint - $2::bigint AND created_at > now() - interval '`+auditCheckpointMaxAge+`')`,
		seq, auditCheckpointEvery).Scan(&due); err != nil {
		return 0, fmt.Errorf("store: seal audit: checkpoint due: %w", err)
	}
	var checkpoint []byte // NULL: no periodic checkpoint this time
	if due {
		checkpoint = checkpointMAC(keys[0], "periodic", seq, prev)
	}
	if _, err := tx.Exec(ctx, `SELECT audit_seal($1, $2, $3, $4, $5)`,
		tip, ids, hashes, checkpointMAC(keys[0], "head", seq, prev), checkpoint); err != nil {
		return 0, fmt.Errorf("store: seal audit: %w", err)
	}
	return len(events), nil
}

// checkedChainTip returns the last chain position and its hash (0 and the
// genesis hash for an empty chain), after checking it against the signed
// head. When pruning removed every sealed event, the tip is the prune
// checkpoint left in their place.
func checkedChainTip(ctx context.Context, tx pgx.Tx, keys [][]byte) (int64, []byte, error) {
	var seq int64
	var hash []byte
	err := tx.QueryRow(ctx, `SELECT chain_seq, hash FROM audit_chain ORDER BY chain_seq DESC LIMIT 1`).Scan(&seq, &hash)
	if errors.Is(err, pgx.ErrNoRows) {
		err = tx.QueryRow(ctx, `SELECT chain_seq, hash FROM audit_checkpoints
			WHERE kind = 'prune' ORDER BY chain_seq DESC LIMIT 1`).Scan(&seq, &hash)
		if errors.Is(err, pgx.ErrNoRows) {
			seq, hash, err = 0, genesisHash, nil
		}
	}
	if err != nil {
		return 0, nil, fmt.Errorf("store: seal audit: chain tip: %w", err)
	}
	var headSeq int64
	var headHash, headMAC []byte
	err = tx.QueryRow(ctx, `SELECT chain_seq, hash, mac FROM audit_chain_head`).Scan(&headSeq, &headHash, &headMAC)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		if seq != 0 {
			return 0, nil, fmt.Errorf("store: seal audit: %w: the chain reaches seq %d but no head was ever signed", ErrAuditChainHead, seq)
		}
	case err != nil:
		return 0, nil, fmt.Errorf("store: seal audit: signed head: %w", err)
	case headSeq != seq || !bytes.Equal(headHash, hash):
		return 0, nil, fmt.Errorf("store: seal audit: %w: the chain ends at seq %d, the signed head is seq %d (run 'console audit verify')", ErrAuditChainHead, seq, headSeq)
	case !checkpointMACValid(keys, "head", headSeq, headHash, headMAC):
		return 0, nil, fmt.Errorf("store: seal audit: %w: its MAC does not verify with the configured audit keys (was the audit or master key replaced without keeping the old one?)", ErrAuditChainHead)
	}
	return seq, hash, nil
}

// RunSealer seals new events every interval until ctx is done, catching up
// fully each tick; sealing writes the periodic signed checkpoints. Database
// failures are logged (again at most once a minute while they last) and
// never stop it.
func (s *Store) RunSealer(ctx context.Context, interval time.Duration, logger *slog.Logger) {
	if interval <= 0 {
		interval = auditDefaultSealTick
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	var failingSince, lastLogged, lastAnchor time.Time
	for {
		err := s.sealAll(ctx)
		if err == nil && time.Since(lastAnchor) >= auditAnchorLogInterval && s.logChainHead(ctx, logger) {
			lastAnchor = time.Now()
		}
		if err == nil && s.anchorEvery > 0 {
			_, err = s.EmitAuditAnchor(ctx, s.anchorEvery)
		}
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			if failingSince.IsZero() {
				failingSince = time.Now()
			}
			if time.Since(lastLogged) >= auditSealerLogInterval {
				logger.Error("audit sealer failing", "err", err, "since", failingSince)
				lastLogged = time.Now()
			}
		case !failingSince.IsZero():
			logger.Info("audit sealer recovered", "after", time.Since(failingSince).Round(time.Millisecond))
			failingSince, lastLogged = time.Time{}, time.Time{}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// auditAnchorLogInterval is how often the sealer writes the chain head to
// the log: a copy outside the database, so that someone who can write to the
// database cannot roll the chain back to an older signed head unnoticed.
const auditAnchorLogInterval = time.Minute

// logChainHead logs the signed head's position and hash and tells whether
// there was one to log.
func (s *Store) logChainHead(ctx context.Context, logger *slog.Logger) bool {
	var seq int64
	var hash []byte
	err := s.pool.QueryRow(ctx, `SELECT chain_seq, hash FROM audit_chain_head`).Scan(&seq, &hash)
	if err != nil {
		return false // no head yet (nothing sealed), or the database is away: the next tick tries again
	}
	logger.Info("audit chain head", "chain_seq", seq, "hash", hex.EncodeToString(hash))
	return true
}

// sealAll seals batch after batch until no full batch remains.
func (s *Store) sealAll(ctx context.Context) error {
	for {
		n, err := s.SealPending(ctx, auditSealBatch)
		if err != nil || n < auditSealBatch {
			return err
		}
	}
}

// SealLag tells how many committed events wait for their seal and how long
// the oldest of them has waited: the "bounded delay" the audit page shows.
func (s *Store) SealLag(ctx context.Context) (unsealed int64, oldest time.Duration, err error) {
	var secs float64
	err = s.pool.QueryRow(ctx, `SELECT count(*), COALESCE(EXTRACT(EPOCH FROM now() - min(q.occurred_at)), 0)::float8
		FROM audit_unsealed q`).Scan(&unsealed, &secs)
	if err != nil {
		return 0, 0, fmt.Errorf("store: audit seal lag: %w", err)
	}
	return unsealed, max(0, time.Duration(secs*float64(time.Second))), nil
}
