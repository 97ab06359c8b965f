package store

import (
	"context"
	"fmt"
)

// auditTextBatch is how many sealed events one call of audit_index_text
// makes searchable.
const auditTextBatch = 5000

// IndexAuditText makes every sealed event searchable by free text: it adds
// their text to audit_text, oldest first, batch after batch, until it has
// caught up with the sealer, and says how many it took. It runs apart from
// sealing (the trigram index costs most of the time); instances running it
// at once take different events. Until it reaches an event, free text finds
// it by reading it, as it does events waiting for their seal. A batch that
// PostgreSQL ends as a deadlock's victim (beside the partition maker, say)
// is tried again at once.
func (s *Store) IndexAuditText(ctx context.Context) (int, error) {
	total := 0
	for {
		var n int
		err := retryDeadlocked(ctx, func() error {
			return s.pool.QueryRow(ctx, `SELECT audit_index_text($1)`, auditTextBatch).Scan(&n)
		})
		if err != nil {
			return total, fmt.Errorf("store: index audit text: %w", err)
		}
		total += n
		if n < auditTextBatch {
			return total, nil
		}
	}
}
