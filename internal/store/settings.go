package store

import (
	"context"
	"crypto/rand"
	"fmt"
)

// SharedKey returns the random key of size bytes stored under name, creating
// it on first use. Every console instance on the database gets the same bytes
// (session cookie keys must agree across instances): whoever inserts first
// wins, the others' INSERT does nothing and their SELECT reads the winner's.
func (s *Store) SharedKey(ctx context.Context, name string, size int) ([]byte, error) {
	if name == "" || containsNUL(name) || size <= 0 || size > 1024 {
		return nil, fmt.Errorf("store: shared key %q of %d bytes: invalid request", name, size)
	}
	fresh := make([]byte, size)
	if _, err := rand.Read(fresh); err != nil {
		return nil, fmt.Errorf("store: shared key %q: %w", name, err)
	}
	// Two statements on purpose: under READ COMMITTED the SELECT takes a new
	// snapshot and so sees a row that a concurrent instance committed while
	// our INSERT waited on it; one statement would not.
	if _, err := s.pool.Exec(ctx, `INSERT INTO settings (name, value) VALUES ($1, $2)
		ON CONFLICT (name) DO NOTHING`, name, fresh); err != nil {
		return nil, fmt.Errorf("store: shared key %q: insert: %w", name, err)
	}
	var value []byte
	if err := s.pool.QueryRow(ctx, `SELECT value FROM settings WHERE name = $1`, name).Scan(&value); err != nil {
		return nil, fmt.Errorf("store: shared key %q: %w", name, err)
	}
	if len(value) != size {
		return nil, fmt.Errorf("store: shared key %q holds %d bytes, want %d", name, len(value), size)
	}
	return value, nil
}
