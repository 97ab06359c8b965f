package store

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"
)

// ErrOIDCStateUsed means an SSO sign-in state is unknown, expired or was
// used already: each is good for one callback.
var ErrOIDCStateUsed = errors.New("store: sso state unknown, expired or used")

// BeginOIDCState records a sign-in's state, good for one use within ttl
// across every instance (only its SHA-256 is kept), and purges expired ones.
func (s *Store) BeginOIDCState(ctx context.Context, state string, ttl time.Duration) error {
	sum := sha256.Sum256([]byte(state))
	if _, err := s.pool.Exec(ctx, `DELETE FROM oidc_states WHERE expires_at < now()`); err != nil {
		return fmt.Errorf("store: begin sso state: %w", err)
	}
	if _, err := s.pool.Exec(ctx, `INSERT INTO oidc_states (state_hash, expires_at) VALUES ($1, now() + $2::float8 * interval '1 second')`,
		sum[:], ttl.Seconds()); err != nil {
		return fmt.Errorf("store: begin sso state: %w", err)
	}
	return nil
}

// ConsumeOIDCState uses a sign-in's state: once, before it expires; any
// other time it is ErrOIDCStateUsed.
func (s *Store) ConsumeOIDCState(ctx context.Context, state string) error {
	sum := sha256.Sum256([]byte(state))
	tag, err := s.pool.Exec(ctx, `DELETE FROM oidc_states WHERE state_hash = $1 AND expires_at > now()`, sum[:])
	if err != nil {
		return fmt.Errorf("store: consume sso state: %w", err)
	}
	if tag.RowsAffected() != 1 {
		return ErrOIDCStateUsed
	}
	return nil
}
