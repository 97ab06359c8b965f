package store

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"time"
)

// ErrSessionNotFound means a session id is unknown, expired, idle for too
// long, or belongs to a disabled operator: in every case, sign in again.
var ErrSessionNotFound = errors.New("store: session not found")

// sessionIDLen is the length of a raw session id: 32 random bytes, base64url.
const sessionIDLen = 43

// sessionTouchEvery bounds how often a lookup writes last_seen_at.
const sessionTouchEvery = `interval '30 seconds'`

// sessionIDHash is what the table keeps of a raw session id.
func sessionIDHash(rawID string) []byte {
	h := sha256.Sum256([]byte(rawID))
	return h[:]
}

// validSessionID tells whether rawID could have come from CreateSession.
func validSessionID(rawID string) bool {
	if len(rawID) != sessionIDLen {
		return false
	}
	_, err := base64.RawURLEncoding.Strict().DecodeString(rawID)
	return err == nil
}

// CreateSession starts a complete password session for an operator that
// ends at the latest after maxAge, and returns its raw id for the cookie;
// only the id's SHA-256 is stored. StartSession says more about the session.
func (s *Store) CreateSession(ctx context.Context, operatorID int64, maxAge time.Duration) (string, error) {
	return s.StartSession(ctx, SessionStart{OperatorID: operatorID, MaxAge: maxAge})
}

// LookupSession returns the operator of a live session: not past its absolute
// expiry, seen within idle (no idle limit when idle <= 0), operator enabled.
// It refreshes last_seen_at at most every 30 seconds to spare writes.
func (s *Store) LookupSession(ctx context.Context, rawID string, idle time.Duration) (Operator, error) {
	ws, err := s.LookupWebSession(ctx, rawID, idle)
	return ws.Operator, err
}

// DeleteSession ends one session (sign-out); an unknown id is not an error.
func (s *Store) DeleteSession(ctx context.Context, rawID string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM web_sessions WHERE id_hash = $1`, sessionIDHash(rawID)); err != nil {
		return fmt.Errorf("store: delete session: %w", err)
	}
	return nil
}

// DeleteOperatorSessions ends every session of one operator.
func (s *Store) DeleteOperatorSessions(ctx context.Context, operatorID int64) error {
	return deleteOperatorSessions(ctx, s.pool, operatorID)
}

func deleteOperatorSessions(ctx context.Context, db dbtx, operatorID int64) error {
	if _, err := db.Exec(ctx, `DELETE FROM web_sessions WHERE operator_id = $1`, operatorID); err != nil {
		return fmt.Errorf("store: delete sessions of operator %d: %w", operatorID, err)
	}
	return nil
}

// PurgeExpiredSessions deletes sessions past their absolute expiry and says
// how many went.
func (s *Store) PurgeExpiredSessions(ctx context.Context) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM web_sessions WHERE expires_at <= now()`)
	if err != nil {
		return 0, fmt.Errorf("store: purge expired sessions: %w", err)
	}
	return tag.RowsAffected(), nil
}
