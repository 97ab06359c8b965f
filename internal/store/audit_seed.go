package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// auditSeedBatch is how many synthetic events the seed copies at once.
const auditSeedBatch = 10000

// SeedEvent is a synthetic audit event for development databases and
// benchmarks. Details must be the jsonb text exactly as PostgreSQL prints it
// (keys ordered by length then bytes, ", " and ": " between items), since the
// chain hashes that text; SeedAuditEvents checks it and fails otherwise.
type SeedEvent struct {
	OccurredAt       time.Time
	Actor            Actor
	Origin           Origin
	Action           string
	Outcome          string
	AppID            uint32
	TargetType       string
	TargetID         string
	Details          string
	TokenFingerprint []byte
}

// auditSeedColumns are the columns of an event the seed copies: the id it
// draws itself, then an unsealed event's.
var auditSeedColumns = []string{"id", "occurred_at", "actor_type", "actor_id", "actor_name", "action", "outcome",
	"app_id", "target_type", "target_id", "request_id", "client_ip", "user_agent", "details", "token_fingerprint",
	"project_id"}

// auditSeedChainColumns are the columns of an event's place in the chain.
var auditSeedChainColumns = []string{"chain_seq", "event_id", "occurred_at", "prev_hash", "hash", "sealed_at"}

// seedRowValues are the values of e for auditSeedColumns[1:].
func seedRowValues(e *AuditEvent) []any {
	return []any{e.OccurredAt, e.ActorType, e.ActorID, e.ActorName, e.Action, e.Outcome,
		e.AppID, e.TargetType, e.TargetID, e.RequestID, e.ClientIP, e.UserAgent, e.Details, e.TokenFingerprint, e.ProjectID}
}

// seedProjectIDs maps the AppID of every live project to its id: seeded
// events about an AppID are about that project.
func seedProjectIDs(ctx context.Context, db dbtx) (map[uint32]int64, error) {
	rows, _ := db.Query(ctx, `SELECT app_id, id FROM projects WHERE deleted_at IS NULL`)
	ids := map[uint32]int64{}
	var appID, id int64
	if _, err := pgx.ForEachRow(rows, []any{&appID, &id}, func() error {
		ids[uint32(appID)] = id
		return nil
	}); err != nil {
		return nil, fmt.Errorf("store: seed audit: projects: %w", err)
	}
	return ids, nil
}

// SeedAuditEvents appends n synthetic events, made by next(0) … next(n-1)
// in that order, to the audit trail already sealed. Holding the sealing lock
// in one transaction, it seals what is pending, then computes the chain in
// Go with the sealer's own canonical hash and has workers connections COPY
// the rows with their chain position and a periodic checkpoint every
// auditCheckpointEvery events, each in a transaction of its own; once all
// have committed it signs the new head. Inserting into the trigram index
// costs the database most of the time, which is why several connections
// copy at once; sealing millions of rows through the sealer is what the
// whole approach avoids. VerifyAuditChain accepts the result like any sealed
// chain. Should the process die between the workers' commits and the head's,
// the chain has an unsigned tail that verification reports: this is for
// development and benchmark databases only, whose events record nothing real.
func (s *Store) SeedAuditEvents(ctx context.Context, n, workers int, next func(i int) SeedEvent) error {
	return s.seedAuditEvents(ctx, n, workers, next, true)
}

// SeedAuditEventsFirst is SeedAuditEvents for a seeded past: the events
// waiting for their seal (the seed's own projects, created now) are sealed
// after the seeded ones, by the sealer, so that the past comes first in the
// chain, as in a trail that lived through it, and a prune can take it.
func (s *Store) SeedAuditEventsFirst(ctx context.Context, n, workers int, next func(i int) SeedEvent) error {
	return s.seedAuditEvents(ctx, n, workers, next, false)
}

func (s *Store) seedAuditEvents(ctx context.Context, n, workers int, next func(i int) SeedEvent, sealPendingFirst bool) error {
	keys, err := s.macKeys()
	if err != nil {
		return err
	}
	if err := s.coverSeedMonths(ctx, n, next); err != nil {
		return err
	}
	return s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, auditSealLock); err != nil {
			return fmt.Errorf("store: seed audit: lock: %w", err)
		}
		for sealPendingFirst {
			sealed, err := s.sealLocked(ctx, tx, auditSealBatch)
			if err != nil {
				return err
			}
			if sealed == 0 {
				break
			}
		}
		seq, prev, err := checkedChainTip(ctx, tx, keys)
		if err != nil {
			return err
		}
		projects, err := seedProjectIDs(ctx, tx)
		if err != nil {
			return err
		}
		c := seedCopier{s: s, macKey: keys[0], seq: seq, prev: prev, next: next, projects: projects}
		if err := c.run(ctx, n, max(workers, 1)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO audit_chain_head (chain_seq, hash, mac) VALUES ($1, $2, $3)
			ON CONFLICT (singleton) DO UPDATE SET chain_seq = $1, hash = $2, mac = $3, updated_at = now()`,
			c.seq, c.prev, checkpointMAC(keys[0], "head", c.seq, c.prev)); err != nil {
			return fmt.Errorf("store: seed audit: sign head: %w", err)
		}
		return nil
	})
}

// SeedAuditEventsUnsealed COPYs n synthetic events unsealed, as the
// console's own inserts leave them, for the sealer to chain afterwards: how
// long the normal sealing path takes is worth knowing. One transaction per
// auditSeedBatch events.
func (s *Store) SeedAuditEventsUnsealed(ctx context.Context, n int, next func(i int) SeedEvent) error {
	if err := s.coverSeedMonths(ctx, n, next); err != nil {
		return err
	}
	projects, err := seedProjectIDs(ctx, s.pool)
	if err != nil {
		return err
	}
	for done := 0; done < n; {
		size := min(auditSeedBatch, n-done)
		data := make([][]any, 0, size)
		for i := range size {
			e := seedRow(next(done+i), projects)
			data = append(data, seedRowValues(&e))
		}
		if _, err := s.pool.CopyFrom(ctx, pgx.Identifier{"audit_events"}, auditSeedColumns[1:], pgx.CopyFromRows(data)); err != nil {
			return fmt.Errorf("store: seed audit: copy events: %w", err)
		}
		done += size
	}
	return nil
}

// coverSeedMonths creates the partitions of the months that the n events
// next makes (in time order) lie in, with a day to spare on either side: it
// calls next for the first and the last event once more, and a generator
// may move them a little each time. An event outside still lands in the
// default partition.
func (s *Store) coverSeedMonths(ctx context.Context, n int, next func(i int) SeedEvent) error {
	if n == 0 {
		return nil
	}
	first, last := next(0).OccurredAt, next(n-1).OccurredAt
	if last.Before(first) {
		first, last = last, first
	}
	return coverAuditMonths(ctx, s.pool, first.Add(-24*time.Hour), last.Add(24*time.Hour))
}

// seedRow turns a synthetic event into the row that is stored and hashed,
// about the live project with its AppID (projects maps them).
func seedRow(se SeedEvent, projects map[uint32]int64) AuditEvent {
	e := AuditEvent{OccurredAt: se.OccurredAt.Truncate(time.Microsecond), ActorType: se.Actor.Type,
		ActorID: se.Actor.ID, ActorName: se.Actor.Name, Action: se.Action, Outcome: se.Outcome,
		TargetType: se.TargetType, TargetID: se.TargetID, RequestID: se.Origin.RequestID,
		ClientIP: se.Origin.ClientIP, UserAgent: se.Origin.UserAgent, Details: json.RawMessage(se.Details),
		TokenFingerprint: se.TokenFingerprint, CanonicalVersion: currentCanonicalVersion}
	if se.AppID != 0 {
		a := int64(se.AppID)
		e.AppID = &a
		if id, ok := projects[se.AppID]; ok {
			e.ProjectID = &id
		}
	}
	return e
}
