package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
)

// ErrNoAuditVerification means the chain was never verified.
var ErrNoAuditVerification = errors.New("audit chain never verified")

// Kinds of chain break a VerifyReport names.
const (
	BreakGap              = "gap"                 // a chain position is missing: an event was deleted
	BreakPrevHash         = "prev_hash_mismatch"  // an event does not follow its predecessor: reordered, swapped or inserted
	BreakHash             = "hash_mismatch"       // an event's content differs from what was sealed
	BreakCheckpoint       = "checkpoint_mismatch" // the chain was recomputed since a checkpoint was signed
	BreakCheckpointMAC    = "checkpoint_bad_mac"  // a checkpoint was forged or altered
	BreakAnchor           = "bad_anchor"          // the oldest events are gone without a signed prune checkpoint
	BreakUnsealedPosition = "unsealed_position"   // an event's seal state contradicts its chain position
	BreakTruncated        = "truncated"           // events were removed from the end of the chain
	BreakUnsignedTail     = "unsigned_tail"       // events were appended past the signed head
	BreakHeadMismatch     = "head_mismatch"       // the last event is not the one the sealer signed
	BreakHeadMAC          = "head_bad_mac"        // the signed head was forged or altered
)

// VerifyReport is the outcome of verifying the audit chain. When OK is false,
// BreakSeq and BreakKind say where and how the chain first breaks.
type VerifyReport struct {
	OK          bool      `json:"ok"`
	Events      int64     `json:"events"`    // sealed events verified (up to the break)
	FirstSeq    int64     `json:"first_seq"` // 0 when there are none
	LastSeq     int64     `json:"last_seq"`
	BreakSeq    int64     `json:"break_seq,omitempty"`
	BreakKind   string    `json:"break_kind,omitempty"`
	Message     string    `json:"message"`
	Checkpoints int       `json:"checkpoints"` // signed checkpoints verified, the prune anchor included
	VerifiedAt  time.Time `json:"verified_at"`
}

// chainPoint is a position of the chain and the hash there.
type chainPoint struct {
	seq  int64
	hash []byte
	mac  []byte
	kind string
}

// VerifyAuditChain recomputes the whole chain from one consistent snapshot,
// streaming events in chain order in constant memory, checks every signed
// checkpoint and the signed head, records the result in audit_verifications
// and returns it. An error means verification could not run, not that the
// chain is broken. One verification runs at a time in a Store, on one
// connection: a call made while one runs shares its result (see
// VerifyAuditChainShared).
func (s *Store) VerifyAuditChain(ctx context.Context) (VerifyReport, error) {
	return s.verifyGate.run(ctx, 0, s.verifyAuditChain)
}

// verifyAuditChain is one verification run.
func (s *Store) verifyAuditChain(ctx context.Context) (VerifyReport, error) {
	keys, err := s.macKeys()
	if err != nil {
		return VerifyReport{}, err
	}
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return VerifyReport{}, fmt.Errorf("store: verify audit: begin: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // read-only
	v := chainVerifier{keys: keys}
	if err := v.run(ctx, tx); err != nil {
		return VerifyReport{}, fmt.Errorf("store: verify audit: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return VerifyReport{}, fmt.Errorf("store: verify audit: %w", err)
	}
	r := v.report
	if r.OK {
		r.Message = fmt.Sprintf("%d events verified (seq %d..%d), %d signed checkpoints", r.Events, r.FirstSeq, r.LastSeq, r.Checkpoints)
	}
	var breakSeq *int64
	var breakKind *string
	if !r.OK {
		breakSeq, breakKind = &r.BreakSeq, &r.BreakKind
	}
	err = s.pool.QueryRow(ctx, `INSERT INTO audit_verifications
		(ok, events, break_seq, break_kind, message, first_seq, last_seq, checkpoints)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING verified_at`,
		r.OK, r.Events, breakSeq, breakKind, r.Message, r.FirstSeq, r.LastSeq, r.Checkpoints).Scan(&r.VerifiedAt)
	if err != nil {
		return r, fmt.Errorf("store: verify audit: record result: %w", err)
	}
	return r, nil
}

// LastVerification returns the most recent verification result, or
// ErrNoAuditVerification.
func (s *Store) LastVerification(ctx context.Context) (VerifyReport, error) {
	var r VerifyReport
	var breakSeq, firstSeq, lastSeq *int64
	var breakKind *string
	err := s.pool.QueryRow(ctx, `SELECT verified_at, ok, events, break_seq, break_kind, message, first_seq, last_seq, checkpoints
		FROM audit_verifications ORDER BY verified_at DESC, id DESC LIMIT 1`).Scan(
		&r.VerifiedAt, &r.OK, &r.Events, &breakSeq, &breakKind, &r.Message, &firstSeq, &lastSeq, &r.Checkpoints)
	if errors.Is(err, pgx.ErrNoRows) {
		return VerifyReport{}, ErrNoAuditVerification
	}
	if err != nil {
		return VerifyReport{}, fmt.Errorf("store: last audit verification: %w", err)
	}
	for _, p := range []struct {
		dst *int64
		src *int64
	}{{&r.BreakSeq, breakSeq}, {&r.FirstSeq, firstSeq}, {&r.LastSeq, lastSeq}} {
		if p.src != nil {
			*p.dst = *p.src
		}
	}
	if breakKind != nil {
		r.BreakKind = *breakKind
	}
	return r, nil
}

// chainVerifier walks the chain; fail records the first break only.
type chainVerifier struct {
	keys   [][]byte
	report VerifyReport
	broken bool
}

func (v *chainVerifier) fail(seq int64, kind, format string, a ...any) {
	if v.broken {
		return
	}
	v.broken = true
	v.report.BreakSeq, v.report.BreakKind, v.report.Message = seq, kind, fmt.Sprintf(format, a...)
}

func (v *chainVerifier) macOK(p chainPoint) bool {
	return checkpointMACValid(v.keys, p.kind, p.seq, p.hash, p.mac)
}

// run checks, in chain order: the anchor, every event and checkpoint, then
// the end of the chain against the signed head.
func (v *chainVerifier) run(ctx context.Context, tx pgx.Tx) error {
	var first *int64
	if err := tx.QueryRow(ctx, `SELECT min(chain_seq) FROM audit_chain`).Scan(&first); err != nil {
		return err
	}
	// The anchor: the latest prune checkpoint before the first event (or at
	// all, when pruning left no sealed event).
	anchor, err := queryPoint(ctx, tx, `SELECT chain_seq, hash, mac, kind FROM audit_checkpoints
		WHERE kind = 'prune' AND ($1::bigint IS NULL OR chain_seq < $1) ORDER BY chain_seq DESC LIMIT 1`, first)
	if err != nil {
		return err
	}
	if first != nil && *first > 1 {
		switch {
		case anchor == nil:
			v.fail(*first, BreakAnchor, "the chain starts at seq %d with no signed prune checkpoint before it: events 1..%d were deleted", *first, *first-1)
		case anchor.seq < *first-1:
			v.fail(anchor.seq+1, BreakGap, "events %d..%d are missing after the prune checkpoint at seq %d", anchor.seq+1, *first-1, anchor.seq)
		}
	}
	tip := chainPoint{hash: genesisHash}
	if anchor != nil && !v.broken {
		if first == nil || *first == anchor.seq+1 {
			if !v.macOK(*anchor) {
				v.fail(anchor.seq+1, BreakAnchor, "the prune checkpoint at seq %d, which the chain starts from, has a bad MAC", anchor.seq)
			}
			v.report.Checkpoints++
		}
		tip = *anchor
	}
	if first != nil && !v.broken {
		if tip, err = v.events(ctx, tx, *first, tip); err != nil {
			return err
		}
	}
	if !v.broken {
		if err := v.end(ctx, tx, tip); err != nil {
			return err
		}
	}
	if !v.broken {
		if err := v.everyEventAccounted(ctx, tx); err != nil {
			return err
		}
	}
	v.report.OK = !v.broken
	return nil
}

// queryPoint reads one chain point, or nil when there is none.
func queryPoint(ctx context.Context, tx pgx.Tx, sql string, args ...any) (*chainPoint, error) {
	var p chainPoint
	err := tx.QueryRow(ctx, sql, args...).Scan(&p.seq, &p.hash, &p.mac, &p.kind)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &p, nil
}

// verifyBatch is how many chain positions verification reads at a time.
const verifyBatch = 10000

// chainRow is a chain position as verification reads it, with the
// checkpoint signed there, if any.
type chainRow struct {
	seq, eventID   int64
	prevHash, hash []byte
	cpHash, cpMAC  []byte
	cpKind         *string
}

// events checks the sealed events in chain order from first, after tip: a
// batch of chain positions, then their events, read by id range (events
// are chained in about id order, so that is one index range, not a lookup
// per position), matched in memory.
func (v *chainVerifier) events(ctx context.Context, tx pgx.Tx, first int64, tip chainPoint) (chainPoint, error) {
	var h chainHasher
	r := &v.report
	for after := first - 1; ; {
		positions, err := readChainRows(ctx, tx, after)
		if err != nil || len(positions) == 0 {
			return tip, err
		}
		events, err := readEventsOf(ctx, tx, positions)
		if err != nil {
			return tip, err
		}
		for _, p := range positions {
			e, found := events[p.eventID]
			switch want := tip.seq + 1; {
			case p.seq != want:
				v.fail(want, BreakGap, "event seq %d is missing (the next is %d): deleted", want, p.seq)
			case !found:
				v.fail(p.seq, BreakGap, "event seq %d (id %d) is missing: deleted", p.seq, p.eventID)
			case !bytes.Equal(p.prevHash, tip.hash) && p.seq == first && first > 1:
				v.fail(p.seq, BreakAnchor, "the chain starts at seq %d but does not continue the prune checkpoint at seq %d", p.seq, tip.seq)
			case !bytes.Equal(p.prevHash, tip.hash):
				v.fail(p.seq, BreakPrevHash, "event seq %d (id %d) does not follow seq %d: events were reordered, swapped or inserted", p.seq, e.ID, tip.seq)
			case !sumIs(&h, p, e):
				v.fail(p.seq, BreakHash, "event seq %d (id %d) differs from what was sealed: its content was changed", p.seq, e.ID)
			case p.cpKind != nil:
				cp := chainPoint{seq: p.seq, hash: p.cpHash, mac: p.cpMAC, kind: *p.cpKind}
				r.Checkpoints++
				if !v.macOK(cp) {
					v.fail(p.seq, BreakCheckpointMAC, "the %s checkpoint at seq %d has a bad MAC: it was forged or altered", cp.kind, p.seq)
				} else if !bytes.Equal(cp.hash, p.hash) {
					v.fail(p.seq, BreakCheckpoint, "the chain at seq %d differs from its signed checkpoint: the chain was rewritten at or before seq %d", p.seq, p.seq)
				}
			}
			if v.broken {
				return tip, nil
			}
			if r.Events == 0 {
				r.FirstSeq = p.seq
			}
			r.Events++
			r.LastSeq = p.seq
			tip = chainPoint{seq: p.seq, hash: p.hash}
			after = p.seq
		}
		if len(positions) < verifyBatch {
			return tip, nil
		}
	}
}

// sumIs tells whether e hashes, at p's position after p's previous hash, to
// p's hash.
func sumIs(h *chainHasher, p chainRow, e *AuditEvent) bool {
	sum := h.sum(p.prevHash, p.seq, e)
	return bytes.Equal(sum[:], p.hash)
}

// readChainRows reads up to verifyBatch chain positions after after, in
// order, with their checkpoints.
func readChainRows(ctx context.Context, tx pgx.Tx, after int64) ([]chainRow, error) {
	rows, err := tx.Query(ctx, `SELECT ch.chain_seq, ch.event_id, ch.prev_hash, ch.hash, c.hash, c.mac, c.kind
		FROM audit_chain ch LEFT JOIN audit_checkpoints c ON c.chain_seq = ch.chain_seq
		WHERE ch.chain_seq > $1 ORDER BY ch.chain_seq LIMIT $2`, after, verifyBatch)
	if err != nil {
		return nil, err
	}
	var out []chainRow
	var p chainRow
	_, err = pgx.ForEachRow(rows, []any{&p.seq, &p.eventID, &p.prevHash, &p.hash, &p.cpHash, &p.cpMAC, &p.cpKind}, func() error {
		out = append(out, p)
		p = chainRow{}
		return nil
	})
	return out, err
}

// readEventsOf reads the events of positions by id: the range between the
// lowest and highest id when it is not much wider than the batch (the usual
// case), else the ids themselves.
func readEventsOf(ctx context.Context, tx pgx.Tx, positions []chainRow) (map[int64]*AuditEvent, error) {
	ids := make([]int64, len(positions))
	for i, p := range positions {
		ids[i] = p.eventID
	}
	lo, hi := slices.Min(ids), slices.Max(ids)
	cond, args := `id BETWEEN $1 AND $2`, []any{lo, hi}
	if hi-lo > 4*int64(len(ids)) {
		cond, args = `id = ANY($1)`, []any{ids}
	}
	rows, err := tx.Query(ctx, `SELECT id, occurred_at, actor_type, actor_id, actor_name, action, outcome, app_id,
			target_type, target_id, request_id, client_ip, user_agent, details::text, token_fingerprint, project_id, canonical_version
		FROM audit_events WHERE `+cond, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make(map[int64]*AuditEvent, len(ids))
	for rows.Next() {
		e := &AuditEvent{}
		if err := rows.Scan(&e.ID, &e.OccurredAt, &e.ActorType, &e.ActorID, &e.ActorName, &e.Action,
			&e.Outcome, &e.AppID, &e.TargetType, &e.TargetID, &e.RequestID, &e.ClientIP, &e.UserAgent,
			(*[]byte)(&e.Details), &e.TokenFingerprint, &e.ProjectID, &e.CanonicalVersion); err != nil {
			return nil, err
		}
		out[e.ID] = e
	}
	return out, rows.Err()
}

// everyEventAccounted checks that every event is sealed or waiting for its
// seal: one whose place in the queue was removed would never be sealed, and
// go unverified.
func (v *chainVerifier) everyEventAccounted(ctx context.Context, tx pgx.Tx) error {
	var events, waiting int64
	if err := tx.QueryRow(ctx, `SELECT (SELECT count(*) FROM audit_events), (SELECT count(*) FROM audit_unsealed)`).Scan(&events, &waiting); err != nil {
		return err
	}
	if events == v.report.Events+waiting {
		return nil
	}
	var id int64
	err := tx.QueryRow(ctx, `SELECT id FROM audit_events e WHERE NOT EXISTS (SELECT 1 FROM audit_chain c WHERE c.event_id = e.id)
		AND NOT EXISTS (SELECT 1 FROM audit_unsealed q WHERE q.event_id = e.id) ORDER BY id LIMIT 1`).Scan(&id)
	switch {
	case err == nil:
		v.fail(0, BreakUnsealedPosition, "event id %d is neither sealed nor waiting for its seal: it was taken off the queue", id)
	case errors.Is(err, pgx.ErrNoRows):
		v.fail(0, BreakUnsealedPosition, "%d events, %d sealed and %d waiting for their seal: the seal queue names events that are sealed already or not there",
			events, v.report.Events, waiting)
	default:
		return err
	}
	return nil
}

// end checks the end of the chain: no checkpoint past it, and the head that
// the last sealer signed is exactly there.
func (v *chainVerifier) end(ctx context.Context, tx pgx.Tx, tip chainPoint) error {
	var beyond int64
	err := tx.QueryRow(ctx, `SELECT chain_seq FROM audit_checkpoints WHERE chain_seq > $1 ORDER BY chain_seq LIMIT 1`, tip.seq).Scan(&beyond)
	switch {
	case err == nil:
		v.fail(tip.seq+1, BreakTruncated, "a checkpoint was signed at seq %d but the chain ends at seq %d: events were removed from the end", beyond, tip.seq)
		return nil
	case !errors.Is(err, pgx.ErrNoRows):
		return err
	}
	head, err := queryPoint(ctx, tx, `SELECT chain_seq, hash, mac, 'head' FROM audit_chain_head`)
	switch {
	case err != nil:
		return err
	case head == nil && tip.seq > 0:
		v.fail(tip.seq, BreakHeadMismatch, "the chain reaches seq %d but no head was ever signed", tip.seq)
	case head == nil:
	case !v.macOK(*head):
		v.fail(head.seq, BreakHeadMAC, "the signed head (seq %d) has a bad MAC: it was forged or altered", head.seq)
	case head.seq < tip.seq:
		v.fail(head.seq+1, BreakUnsignedTail, "events seq %d..%d lie past the signed head: they were appended outside the sealer", head.seq+1, tip.seq)
	case head.seq > tip.seq:
		v.fail(tip.seq+1, BreakTruncated, "the signed head is seq %d but the chain ends at seq %d: events were removed from the end", head.seq, tip.seq)
	case !bytes.Equal(head.hash, tip.hash):
		v.fail(tip.seq, BreakHeadMismatch, "the last event (seq %d) is not the one the sealer signed", tip.seq)
	}
	return nil
}
