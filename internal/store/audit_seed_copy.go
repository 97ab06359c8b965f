package store

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// seedCopier computes the chain of synthetic events in order and hands
// batches of rows to worker transactions that COPY them.
type seedCopier struct {
	s      *Store
	macKey []byte
	seq    int64  // the chain tip: last position…
	prev   []byte // …and its hash
	next   func(int) SeedEvent
	// projects maps AppIDs to live project ids (see seedRow).
	projects map[uint32]int64
}

// seedRows is one batch, ready to copy and to check.
type seedRows struct {
	ids         []int64
	events      [][]any
	chain       [][]any
	checkpoints [][]any
	firstSeq    int64
	lastSeq     int64
	from, to    time.Time // the first and last occurred_at: the months the batch lies in
	detailsMD5  string    // of every event's details text followed by "\n", in chain order
}

// run copies n events with workers transactions, committing them all only
// when every batch has been copied and checked; on failure none commits.
func (c *seedCopier) run(ctx context.Context, n, workers int) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	txs := make([]pgx.Tx, workers)
	for i := range txs {
		tx, err := c.s.pool.Begin(ctx)
		if err != nil {
			return fmt.Errorf("store: seed audit: begin: %w", err)
		}
		defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // no-op after commit
		txs[i] = tx
	}
	batches := make(chan seedRows, workers)
	var failed sync.Once
	var firstErr error
	fail := func(err error) {
		failed.Do(func() { firstErr = err })
		cancel()
	}
	var wg sync.WaitGroup
	for _, tx := range txs {
		wg.Go(func() {
			for b := range batches {
				if err := copySeedRows(ctx, tx, b); err != nil {
					fail(err)
				}
			}
		})
	}
	// Small seeds still spread over every worker.
	batch := min(auditSeedBatch, max(n/(4*workers), 100))
	for done := 0; done < n && ctx.Err() == nil; {
		size := min(batch, n-done)
		b, err := c.build(ctx, done, size)
		if err != nil {
			fail(err)
			break
		}
		select {
		case batches <- b:
		case <-ctx.Done():
		}
		done += size
	}
	close(batches)
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	for _, tx := range txs {
		if err := tx.Commit(ctx); err != nil {
			return fmt.Errorf("store: seed audit: commit: %w", err)
		}
	}
	return nil
}

// build draws ids for events first … first+size-1 and chains them after
// the tip, which it advances.
func (c *seedCopier) build(ctx context.Context, first, size int) (seedRows, error) {
	rows, _ := c.s.pool.Query(ctx, `SELECT nextval(pg_get_serial_sequence('audit_events', 'id'))
		FROM generate_series(1, $1) ORDER BY 1`, size)
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return seedRows{}, fmt.Errorf("store: seed audit: ids: %w", err)
	}
	b := seedRows{ids: ids, events: make([][]any, 0, size), chain: make([][]any, 0, size), firstSeq: c.seq + 1}
	now := time.Now()
	sum := md5.New()
	var h chainHasher
	for i, id := range ids {
		e := seedRow(c.next(first+i), c.projects)
		e.ID = id
		c.seq++
		hash := h.sum(c.prev, c.seq, &e)
		b.events = append(b.events, append([]any{e.ID}, seedRowValues(&e)...))
		b.chain = append(b.chain, []any{c.seq, e.ID, e.OccurredAt, c.prev, hash[:], now})
		if b.from.IsZero() || e.OccurredAt.Before(b.from) {
			b.from = e.OccurredAt
		}
		if e.OccurredAt.After(b.to) {
			b.to = e.OccurredAt
		}
		if c.seq%auditCheckpointEvery == 0 {
			b.checkpoints = append(b.checkpoints, []any{c.seq, hash[:], checkpointMAC(c.macKey, "periodic", c.seq, hash[:]), "periodic"})
		}
		c.prev = hash[:]
		sum.Write(e.Details)
		sum.Write([]byte{'\n'})
	}
	b.lastSeq, b.detailsMD5 = c.seq, hex.EncodeToString(sum.Sum(nil))
	return b, nil
}

// copySeedRows copies one batch in tx, events sealed as audit_seal leaves
// them (in the chain, off the queue, their text searchable), and checks that
// PostgreSQL prints their details back exactly as they were hashed:
// otherwise the seeded chain would never verify.
func copySeedRows(ctx context.Context, tx pgx.Tx, b seedRows) error {
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"audit_events"}, auditSeedColumns, pgx.CopyFromRows(b.events)); err != nil {
		return fmt.Errorf("store: seed audit: copy events: %w", err)
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"audit_chain"}, auditSeedChainColumns, pgx.CopyFromRows(b.chain)); err != nil {
		return fmt.Errorf("store: seed audit: copy chain: %w", err)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM audit_unsealed WHERE event_id = ANY($1)`, b.ids); err != nil {
		return fmt.Errorf("store: seed audit: off the seal queue: %w", err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO audit_text (event_id, occurred_at, body) SELECT id, occurred_at, `+auditTextExpr+`
		FROM audit_events WHERE id = ANY($1) AND occurred_at BETWEEN $2 AND $3`, b.ids, b.from, b.to); err != nil {
		return fmt.Errorf("store: seed audit: text: %w", err)
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"audit_checkpoints"}, []string{"chain_seq", "hash", "mac", "kind"},
		pgx.CopyFromRows(b.checkpoints)); err != nil {
		return fmt.Errorf("store: seed audit: copy checkpoints: %w", err)
	}
	var stored string
	if err := tx.QueryRow(ctx, `SELECT md5(string_agg(details::text || E'\n', '' ORDER BY chain_seq))
		FROM audit_trail WHERE chain_seq BETWEEN $1 AND $2`, b.firstSeq, b.lastSeq).Scan(&stored); err != nil {
		return fmt.Errorf("store: seed audit: check details: %w", err)
	}
	if stored != b.detailsMD5 {
		return fmt.Errorf("store: seed audit: details of chain positions %d..%d are not in PostgreSQL's jsonb text form", b.firstSeq, b.lastSeq)
	}
	return nil
}
