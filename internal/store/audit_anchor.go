package store

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
)

// Kinds of break that checking an anchor names, beside VerifyReport's.
const (
	BreakAnchorRolledBack = "rolled_back"     // the chain ends before a head that was delivered outside
	BreakAnchorRewritten  = "anchor_mismatch" // the event at an anchored position is not the anchored one
	BreakAnchorMAC        = "anchor_bad_mac"  // the anchor's MAC does not verify: forged, or another key
)

// Anchor is a signed chain head as an audit.anchor event carries it out of
// the database: position, hash there, and the head's MAC.
type Anchor struct {
	Seq  int64  `json:"seq"`
	Hash []byte `json:"-"`
	MAC  []byte `json:"-"`
}

// anchorDetails is the details of an audit.anchor event.
type anchorDetails struct {
	Seq  int64  `json:"seq"`
	Hash string `json:"hash"`
	MAC  string `json:"mac"`
}

// ParseAnchorEvent reads the anchor an audit.anchor event (its JSON form)
// carries, or says why it is none.
func ParseAnchorEvent(line []byte) (Anchor, error) {
	var e struct {
		Action  string          `json:"action"`
		Details json.RawMessage `json:"details"`
	}
	if err := json.Unmarshal(line, &e); err != nil {
		return Anchor{}, fmt.Errorf("not a JSON event: %w", err)
	}
	if e.Action != AnchorAction {
		return Anchor{}, fmt.Errorf("action %q is not %s", e.Action, AnchorAction)
	}
	return parseAnchorDetails(e.Details)
}

func parseAnchorDetails(details []byte) (Anchor, error) {
	var d anchorDetails
	if err := json.Unmarshal(details, &d); err != nil {
		return Anchor{}, fmt.Errorf("anchor details: %w", err)
	}
	a := Anchor{Seq: d.Seq}
	var err1, err2 error
	a.Hash, err1 = hex.DecodeString(d.Hash)
	a.MAC, err2 = hex.DecodeString(d.MAC)
	if a.Seq < 1 || err1 != nil || err2 != nil || len(a.Hash) != 32 || len(a.MAC) != 32 {
		return Anchor{}, errors.New("anchor details: want seq ≥ 1 and a 32-byte hash and MAC in hex")
	}
	return a, nil
}

// SetAuditAnchorInterval makes the sealer emit an audit.anchor event with
// the signed head every interval (0: never). Call it before RunSealer.
func (s *Store) SetAuditAnchorInterval(d time.Duration) { s.anchorEvery = d }

// EmitAuditAnchor writes an audit.anchor event carrying the signed chain
// head (seq, hash, MAC) when the last one is at least every old and the
// head has moved past it. It runs under the sealing lock, so that several
// instances emit one anchor; sinks carry it out of the database, where a
// rollback of the chain cannot reach it. It tells whether it wrote one.
func (s *Store) EmitAuditAnchor(ctx context.Context, every time.Duration) (bool, error) {
	emitted := false
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var locked bool
		if err := tx.QueryRow(ctx, `SELECT pg_try_advisory_xact_lock($1)`, auditSealLock).Scan(&locked); err != nil || !locked {
			return err
		}
		var head Anchor
		err := tx.QueryRow(ctx, `SELECT chain_seq, hash, mac FROM audit_chain_head`).Scan(&head.Seq, &head.Hash, &head.MAC)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil // nothing sealed yet
		}
		if err != nil {
			return err
		}
		var age float64
		var lastSeq *int64
		err = tx.QueryRow(ctx, `SELECT EXTRACT(EPOCH FROM now() - occurred_at)::float8, chain_seq FROM audit_trail
			WHERE action = $1 ORDER BY occurred_at DESC, id DESC LIMIT 1`, AnchorAction).Scan(&age, &lastSeq)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
		case err != nil:
			return err
		case age < every.Seconds() || lastSeq == nil || head.Seq <= *lastSeq:
			return nil // recent, not sealed yet, or nothing new since
		}
		emitted = true
		return s.insertAudit(ctx, tx, Event{Actor: Actor{Type: ActorSystem, Name: "audit-sealer"}, Action: AnchorAction,
			Outcome: OutcomeSuccess, TargetType: "audit_chain", TargetID: strconv.FormatInt(head.Seq, 10),
			Details: map[string]any{"seq": head.Seq, "hash": hex.EncodeToString(head.Hash), "mac": hex.EncodeToString(head.MAC)}})
	})
	if err != nil {
		return false, fmt.Errorf("store: emit audit anchor: %w", err)
	}
	return emitted, nil
}

// AnchorReport is the outcome of checking anchors against the chain.
type AnchorReport struct {
	OK        bool   `json:"ok"`
	Checked   int    `json:"checked"`
	BreakSeq  int64  `json:"break_seq,omitempty"`
	BreakKind string `json:"break_kind,omitempty"`
	Message   string `json:"message"`
}

// CheckAnchors tells whether the chain still holds every anchored head:
// the event at each anchor's position must still be there with the
// anchored hash, and the anchor's MAC must verify with the audit keys. A
// chain rolled back to an older signed head verifies on its own; against
// an anchor delivered before the rollback it does not.
func (s *Store) CheckAnchors(ctx context.Context, anchors []Anchor) (AnchorReport, error) {
	keys, err := s.macKeys()
	if err != nil {
		return AnchorReport{}, err
	}
	r := AnchorReport{OK: true}
	var end, pruned int64
	if err := s.pool.QueryRow(ctx, `SELECT COALESCE((SELECT max(chain_seq) FROM audit_chain), 0),
		COALESCE((SELECT max(chain_seq) FROM audit_checkpoints WHERE kind = 'prune'), 0)`).Scan(&end, &pruned); err != nil {
		return r, fmt.Errorf("store: check anchors: %w", err)
	}
	for _, a := range anchors {
		if !checkpointMACValid(keys, "head", a.Seq, a.Hash, a.MAC) {
			return anchorBreak(r, a.Seq, BreakAnchorMAC, "the anchor for seq %d has a bad MAC: it was forged, or signed with another audit key", a.Seq), nil
		}
		var hash []byte
		err := s.pool.QueryRow(ctx, `SELECT c.hash FROM audit_chain c JOIN audit_events e ON e.id = c.event_id AND e.occurred_at = c.occurred_at
			WHERE c.chain_seq = $1`, a.Seq).Scan(&hash)
		switch {
		case errors.Is(err, pgx.ErrNoRows) && a.Seq > end:
			return anchorBreak(r, end+1, BreakAnchorRolledBack, "the chain ends at seq %d, but an anchor delivered outside the database "+
				"vouches for seq %d: the chain was rolled back and events %d..%d are gone", end, a.Seq, end+1, a.Seq), nil
		case errors.Is(err, pgx.ErrNoRows) && a.Seq <= pruned:
			r.Message += fmt.Sprintf("anchor seq %d lies before the last prune (seq %d) and was not checked; ", a.Seq, pruned)
			continue
		case errors.Is(err, pgx.ErrNoRows):
			return anchorBreak(r, a.Seq, BreakGap, "the event at anchored seq %d is missing: deleted", a.Seq), nil
		case err != nil:
			return r, fmt.Errorf("store: check anchors: %w", err)
		case !bytes.Equal(hash, a.Hash):
			return anchorBreak(r, a.Seq, BreakAnchorRewritten, "the event at seq %d is not the one anchored: the chain was rewritten "+
				"at or before seq %d", a.Seq, a.Seq), nil
		}
		r.Checked++
	}
	r.Message += fmt.Sprintf("%d anchors checked: the chain still holds every anchored head", r.Checked)
	return r, nil
}

func anchorBreak(r AnchorReport, seq int64, kind, format string, a ...any) AnchorReport {
	r.OK, r.BreakSeq, r.BreakKind, r.Message = false, seq, kind, fmt.Sprintf(format, a...)
	return r
}
