package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
)

// ErrSinkGone is what a sender returns when its receiver says the sink is
// gone for good (a webhook's 410): the sink is disabled, not retried.
var ErrSinkGone = errors.New("the receiver answered 410 Gone")

// sinkLockBase plus a sink's id is the advisory lock under which one
// instance at a time delivers for that sink ("zcsk" in the high bytes).
const sinkLockBase int64 = 0x7a63_736b << 32

// SinkSender delivers events, in chain order, to sink k and says how many
// of them, from the first, were delivered; an error means the rest were not.
type SinkSender func(ctx context.Context, k Sink, sec SinkSecrets, events []AuditEvent) (int, error)

// SinkRetry says how long to wait after the attempt-th consecutive failure
// (1 for the first), or that the retries are exhausted.
type SinkRetry func(attempt int) (wait time.Duration, exhausted bool)

// SinkRound is what one delivery round for a sink did.
type SinkRound struct {
	Busy      bool  // another instance delivers for this sink, or it is not due
	Read      int   // sealed events read after the cursor
	Delivered int   // events the receiver took (the filter's share of Read)
	Cursor    int64 // the cursor after the round
	Disabled  bool  // the round disabled the sink (410, or retries exhausted)
	SendErr   error // why the receiver did not take them all
}

// DueSinks lists the active sinks whose next attempt is due and that are
// behind the chain head.
func (s *Store) DueSinks(ctx context.Context) ([]int64, error) {
	rows, err := s.pool.Query(ctx, `SELECT id FROM audit_sinks WHERE state = 'active' AND next_attempt_at <= now()
		AND cursor_seq < COALESCE((SELECT chain_seq FROM audit_chain_head), 0) ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("store: due sinks: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("store: due sinks: %w", err)
	}
	return ids, nil
}

// DeliverSinkBatch delivers the next up to limit sealed events after sink
// id's cursor with send, then moves the cursor past what was delivered, in
// one transaction that holds the sink's advisory lock throughout: exactly
// one instance delivers for a sink at a time, and a delivery that dies
// before it commits leaves the cursor where it was (at-least-once). A failed
// send schedules the next attempt with retry; ErrSinkGone or exhausted
// retries disable the sink (audited sink.disable). The error is the
// database's; the receiver's is SinkRound.SendErr.
func (s *Store) DeliverSinkBatch(ctx context.Context, id int64, limit int, send SinkSender, retry SinkRetry) (SinkRound, error) {
	var round SinkRound
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var locked bool
		if err := tx.QueryRow(ctx, `SELECT pg_try_advisory_xact_lock($1)`, sinkLockBase+id).Scan(&locked); err != nil {
			return fmt.Errorf("lock: %w", err)
		}
		k, err := getSink(ctx, tx, id, "")
		if err != nil {
			return err
		}
		round.Cursor = k.CursorSeq
		if !locked || k.State != SinkActive || k.NextAttemptAt.After(time.Now()) {
			round.Busy = true
			return nil
		}
		events, err := s.readChain(ctx, tx, k.CursorSeq, limit, nil)
		if err != nil {
			return err
		}
		if round.Read = len(events); len(events) == 0 {
			return nil
		}
		matching := events[:0:0]
		for i := range events {
			if k.Filter.Matches(&events[i]) {
				matching = append(matching, events[i])
			}
		}
		round.Cursor = *events[len(events)-1].ChainSeq
		if len(matching) > 0 {
			sec, err := s.OpenSinkSecrets(k)
			if err != nil {
				return err
			}
			n, sendErr := send(ctx, k, sec, matching)
			n = min(max(n, 0), len(matching))
			round.Delivered, round.SendErr = n, sendErr
			if sendErr != nil {
				round.Cursor = *matching[n].ChainSeq - 1
			}
		}
		return s.recordSinkRound(ctx, tx, k, &round, retry)
	})
	if err != nil {
		return round, fmt.Errorf("store: deliver to sink %d: %w", id, err)
	}
	return round, nil
}

// recordSinkRound writes the round's cursor, counters and, after a failure,
// the error and the next attempt, unless a replay reset the cursor meanwhile.
func (s *Store) recordSinkRound(ctx context.Context, tx pgx.Tx, k Sink, round *SinkRound, retry SinkRetry) error {
	if round.SendErr == nil {
		_, err := tx.Exec(ctx, `UPDATE audit_sinks SET cursor_seq = $2, delivered = delivered + $3, attempts = 0,
			last_delivered_at = CASE WHEN $3 > 0 THEN now() ELSE last_delivered_at END
			WHERE id = $1 AND generation = $4`, k.ID, round.Cursor, round.Delivered, k.Generation)
		return err
	}
	attempt := k.Attempts + 1
	wait, exhausted := retry(attempt)
	reason := ""
	switch {
	case errors.Is(round.SendErr, ErrSinkGone):
		reason = "the receiver answered 410 Gone"
	case exhausted:
		reason = fmt.Sprintf("retries exhausted after %d attempts", attempt)
	}
	msg := auditText(round.SendErr.Error(), 500)
	_, err := tx.Exec(ctx, `UPDATE audit_sinks SET cursor_seq = $2, delivered = delivered + $3, failed = failed + 1,
		attempts = $4, next_attempt_at = now() + make_interval(secs => $5), last_error = $6, last_error_at = now(),
		last_delivered_at = CASE WHEN $3 > 0 THEN now() ELSE last_delivered_at END,
		state = CASE WHEN $7 <> '' THEN 'disabled' ELSE state END,
		state_reason = CASE WHEN $7 <> '' THEN $7 ELSE state_reason END
		WHERE id = $1 AND generation = $8`, k.ID, round.Cursor, round.Delivered, attempt, wait.Seconds(), msg, reason, k.Generation)
	if err != nil || reason == "" {
		return err
	}
	round.Disabled = true
	return s.insertAudit(ctx, tx, Event{Actor: Actor{Type: ActorSystem, Name: "audit-sink"}, Action: "sink.disable",
		Outcome: OutcomeError, TargetType: "sink", TargetID: strconv.FormatInt(k.ID, 10),
		Details: map[string]any{"name": k.Name, "reason": reason, "error": msg, "cursor_seq": round.Cursor}})
}

// readChain appends to dst up to limit sealed events after chain position
// after, in chain order, those of f's projects, actions and outcomes only
// when f is given.
func (s *Store) readChain(ctx context.Context, db dbtx, after int64, limit int, f *AuditFilter) ([]AuditEvent, error) {
	conds, args := []string{"chain_seq > $1"}, []any{after}
	if f != nil {
		g := *f
		g.Text = "" // free text needs ListAudit's time limit: ReadAuditChain refuses it
		c, a := g.conditions(nil, true)
		for _, cond := range c {
			conds = append(conds, renumber(cond, len(args)))
		}
		args = append(args, a...)
	}
	args = append(args, limit)
	rows, err := db.Query(ctx, `SELECT `+auditColumns+` FROM audit_trail`+whereClause(conds)+
		` ORDER BY chain_seq LIMIT $`+strconv.Itoa(len(args)), args...)
	if err != nil {
		return nil, fmt.Errorf("read chain: %w", err)
	}
	defer rows.Close()
	var events []AuditEvent
	for rows.Next() {
		events = append(events, AuditEvent{})
		if err := scanAuditEvent(rows, &events[len(events)-1]); err != nil {
			return nil, fmt.Errorf("read chain: %w", err)
		}
	}
	return events, rows.Err()
}

// renumber shifts the $n placeholders of cond by by.
func renumber(cond string, by int) string {
	out := make([]byte, 0, len(cond)+4)
	for i := 0; i < len(cond); i++ {
		if cond[i] != '$' {
			out = append(out, cond[i])
			continue
		}
		j := i + 1
		for j < len(cond) && cond[j] >= '0' && cond[j] <= '9' {
			j++
		}
		n, _ := strconv.Atoi(cond[i+1 : j])
		out = append(out, '$')
		out = strconv.AppendInt(out, int64(n+by), 10)
		i = j - 1
	}
	return string(out)
}

// ErrAuditCursorPruned means events after a chain cursor were pruned: a
// reader that resumes there would miss them.
var ErrAuditCursorPruned = errors.New("audit events after this cursor were pruned")

// ReadAuditChain returns up to limit sealed events of f after chain
// position after, in chain order, and the position up to which the chain
// was searched: past the last event returned when fewer than limit matched,
// so that a reader polling a rare filter need not search the same events
// again. ErrAuditCursorPruned means events right after after are no longer
// kept. Free text is refused: it needs ListAudit's time limit.
func (s *Store) ReadAuditChain(ctx context.Context, f AuditFilter, after int64, limit int) ([]AuditEvent, int64, error) {
	v := validator{}
	v.check(after >= 0, "after", "want a chain sequence number, 0 for the start")
	v.check(f.Text == "", "q", "free text cannot be combined with a chain position")
	if err := v.err(); err != nil {
		return nil, after, err
	}
	var kept, head int64 // the first position still kept (after a prune, its checkpoint + 1), and the chain's end
	err := s.pool.QueryRow(ctx, `SELECT COALESCE((SELECT max(chain_seq) FROM audit_checkpoints WHERE kind = 'prune'), 0) + 1,
		COALESCE((SELECT chain_seq FROM audit_chain_head), 0)`).Scan(&kept, &head)
	if err != nil {
		return nil, after, fmt.Errorf("store: read audit chain: %w", err)
	}
	if after+1 < kept {
		return nil, after, fmt.Errorf("store: read audit chain after %d: %w (the trail starts at %d)", after, ErrAuditCursorPruned, kept)
	}
	limit = min(max(limit, 1), MaxAuditPageSize)
	events, err := s.readChain(ctx, s.pool, after, limit, &f)
	if err != nil {
		return nil, after, fmt.Errorf("store: %w", err)
	}
	searched := after
	if len(events) > 0 {
		searched = *events[len(events)-1].ChainSeq
	}
	if len(events) < limit {
		searched = max(searched, head)
	}
	return events, searched, nil
}
