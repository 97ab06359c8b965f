package store

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// streamedEvent is an event in its JSON form as a receiver got it.
type streamedEvent struct {
	ID               int64           `json:"id"`
	OccurredAt       time.Time       `json:"occurred_at"`
	ActorType        string          `json:"actor_type"`
	ActorID          string          `json:"actor_id"`
	ActorName        string          `json:"actor_name"`
	Action           string          `json:"action"`
	Outcome          string          `json:"outcome"`
	AppID            *int64          `json:"app_id"`
	TargetType       string          `json:"target_type"`
	TargetID         string          `json:"target_id"`
	RequestID        string          `json:"request_id"`
	ClientIP         string          `json:"client_ip"`
	UserAgent        string          `json:"user_agent"`
	Details          json.RawMessage `json:"details"`
	TokenFingerprint *string         `json:"token_fingerprint"`
	ChainSeq         *int64          `json:"chain_seq"`
	PrevHash         *string         `json:"prev_hash"`
	Hash             *string         `json:"hash"`
	ProjectID        *int64          `json:"project_id"`
	CanonicalVersion int16           `json:"canonical_version"`
}

// ndjsonWindow is how many recent positions an offline verification keeps
// the hash of, to check an anchor against an event that came before it.
const ndjsonWindow = 1 << 16

// VerifyAuditNDJSON checks a stream or export of events received elsewhere
// (NDJSON, one event a line, in chain order or newest first): each sealed
// event's hash against its content and prev_hash, continuity from one
// position to the next, and, given the audit keys, the MAC of each anchor
// (audit.anchor) and the hash at the position it vouches for when that
// position is in the stream. Unsealed events are skipped. The report names
// the first break; an error means the input could not be read at all.
func VerifyAuditNDJSON(r io.Reader, keys [][]byte) (VerifyReport, error) {
	var rep VerifyReport
	fail := func(seq int64, kind, format string, a ...any) (VerifyReport, error) {
		rep.OK, rep.BreakSeq, rep.BreakKind, rep.Message = false, seq, kind, fmt.Sprintf(format, a...)
		return rep, nil
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	var (
		h                  chainHasher
		lastSeq            int64 // the previous sealed event's position, prev_hash and hash
		lastPrev, lastHash []byte
		order              int // +1 ascending, -1 descending, 0 not known yet
		window             [ndjsonWindow]struct {
			seq  int64
			hash []byte
		}
		pending = map[int64][]byte{} // anchored positions not reached yet → hash
		line    int
	)
	for sc.Scan() {
		line++
		raw := bytes.TrimSpace(sc.Bytes())
		if len(raw) == 0 {
			continue
		}
		var se streamedEvent
		if err := json.Unmarshal(raw, &se); err != nil {
			return fail(0, "unreadable", "line %d is not an audit event: %v", line, err)
		}
		if se.ChainSeq == nil {
			continue
		}
		e, prev, hash, err := se.event()
		if err != nil {
			return fail(*se.ChainSeq, "unreadable", "line %d (seq %d): %v", line, *se.ChainSeq, err)
		}
		seq := *se.ChainSeq
		sum := h.sum(prev, seq, &e)
		if !bytes.Equal(sum[:], hash) {
			return fail(seq, BreakHash, "event seq %d (id %d, line %d) differs from what was sealed: its content was changed", seq, e.ID, line)
		}
		if rep.Events > 0 {
			if order == 0 {
				order = 1
				if seq < lastSeq {
					order = -1
				}
			}
			linked := bytes.Equal(prev, lastHash) // in chain order, this event follows the last
			if order < 0 {
				linked = bytes.Equal(lastPrev, hash) // newest first, the last follows this one
			}
			switch {
			case seq != lastSeq+int64(order):
				return fail(min(seq, lastSeq+int64(order)), BreakGap, "seq %d follows seq %d at line %d: events are missing or out of order", seq, lastSeq, line)
			case !linked:
				return fail(max(seq, lastSeq), BreakPrevHash, "event seq %d does not follow seq %d (line %d): reordered, swapped or inserted",
					max(seq, lastSeq), min(seq, lastSeq), line)
			}
		}
		if want, ok := pending[seq]; ok {
			if !bytes.Equal(want, hash) {
				return fail(seq, BreakAnchorRewritten, "the event at seq %d is not the one its anchor vouches for", seq)
			}
			rep.Checkpoints++
			delete(pending, seq)
		}
		slot := &window[seq%ndjsonWindow]
		slot.seq, slot.hash = seq, hash
		if e.Action == AnchorAction && keys != nil {
			a, err := parseAnchorDetails(e.Details)
			if err != nil {
				return fail(seq, BreakAnchorMAC, "the anchor at seq %d: %v", seq, err)
			}
			if !checkpointMACValid(keys, "head", a.Seq, a.Hash, a.MAC) {
				return fail(seq, BreakAnchorMAC, "the anchor at seq %d (for seq %d) has a bad MAC: forged, or signed with another audit key", seq, a.Seq)
			}
			if w := window[a.Seq%ndjsonWindow]; w.seq == a.Seq {
				if !bytes.Equal(w.hash, a.Hash) {
					return fail(a.Seq, BreakAnchorRewritten, "the event at seq %d is not the one the anchor at seq %d vouches for", a.Seq, seq)
				}
				rep.Checkpoints++
			} else {
				pending[a.Seq] = a.Hash
			}
		}
		if rep.Events == 0 {
			rep.FirstSeq = seq
		}
		rep.Events++
		rep.LastSeq = seq
		lastSeq, lastPrev, lastHash = seq, prev, hash
	}
	if err := sc.Err(); err != nil {
		return rep, fmt.Errorf("read events: %w", err)
	}
	if rep.FirstSeq > rep.LastSeq {
		rep.FirstSeq, rep.LastSeq = rep.LastSeq, rep.FirstSeq
	}
	rep.OK = true
	rep.Message = fmt.Sprintf("%d events verified (seq %d..%d), %d anchors matched", rep.Events, rep.FirstSeq, rep.LastSeq, rep.Checkpoints)
	if keys == nil {
		rep.Message += " (anchor MACs not checked: no audit key)"
	}
	return rep, nil
}

// event turns the JSON form back into what the chain hashes.
func (se *streamedEvent) event() (e AuditEvent, prev, hash []byte, err error) {
	if se.PrevHash == nil || se.Hash == nil {
		return e, nil, nil, errors.New("a sealed event without prev_hash or hash")
	}
	prev, err1 := hex.DecodeString(*se.PrevHash)
	hash, err2 := hex.DecodeString(*se.Hash)
	if err1 != nil || err2 != nil || len(prev) != 32 || len(hash) != 32 {
		return e, nil, nil, errors.New("prev_hash and hash must be 64 hex digits")
	}
	e = AuditEvent{ID: se.ID, OccurredAt: se.OccurredAt, ActorType: se.ActorType, ActorID: se.ActorID, ActorName: se.ActorName,
		Action: se.Action, Outcome: se.Outcome, AppID: se.AppID, TargetType: se.TargetType, TargetID: se.TargetID,
		RequestID: se.RequestID, ClientIP: se.ClientIP, UserAgent: se.UserAgent, Details: se.Details,
		ProjectID: se.ProjectID, CanonicalVersion: se.CanonicalVersion}
	if e.CanonicalVersion == 0 { // a stream written before events named their layout
		e.CanonicalVersion = 1
	}
	if se.TokenFingerprint != nil {
		if e.TokenFingerprint, err = hex.DecodeString(*se.TokenFingerprint); err != nil {
			return e, nil, nil, errors.New("token_fingerprint is not hex")
		}
	}
	return e, prev, hash, nil
}
