package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
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

// CreateSession starts a session for an operator that ends at the latest
// after maxAge, and returns its raw id for the cookie; only the id's SHA-256
// is stored.
func (s *Store) CreateSession(ctx context.Context, operatorID int64, maxAge time.Duration) (string, error) {
	if maxAge <= 0 {
		return "", fmt.Errorf("store: create session: max age %v is not positive", maxAge)
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("store: create session: %w", err)
	}
	rawID := base64.RawURLEncoding.EncodeToString(raw)
	_, err := s.pool.Exec(ctx, `
		INSERT INTO web_sessions (id_hash, operator_id, expires_at)
		VALUES ($1, $2, now() + $3::float8 * interval '1 second')`,
		sessionIDHash(rawID), operatorID, maxAge.Seconds())
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23503" {
		return "", ErrOperatorNotFound
	}
	if err != nil {
		return "", fmt.Errorf("store: create session: %w", err)
	}
	return rawID, nil
}

// sessionRow is a live session's operator and whether last_seen_at is due
// for a refresh.
type sessionRow struct {
	Operator
	TouchDue bool `db:"touch_due"`
}

// LookupSession returns the operator of a live session: not past its absolute
// expiry, seen within idle (no idle limit when idle <= 0), operator enabled.
// It refreshes last_seen_at at most every 30 seconds to spare writes.
func (s *Store) LookupSession(ctx context.Context, rawID string, idle time.Duration) (Operator, error) {
	if !validSessionID(rawID) {
		return Operator{}, ErrSessionNotFound
	}
	idHash := sessionIDHash(rawID)
	rows, _ := s.pool.Query(ctx, `
		SELECT `+operatorColumns+`, ws.last_seen_at < now() - `+sessionTouchEvery+` AS touch_due
		FROM web_sessions ws JOIN operators ON operators.id = ws.operator_id
		WHERE ws.id_hash = $1 AND ws.expires_at > now() AND NOT operators.disabled
			AND ($2::float8 <= 0 OR ws.last_seen_at > now() - $2::float8 * interval '1 second')`,
		idHash, idle.Seconds())
	row, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[sessionRow])
	if errors.Is(err, pgx.ErrNoRows) {
		return Operator{}, ErrSessionNotFound
	}
	if err != nil {
		return Operator{}, fmt.Errorf("store: lookup session: %w", err)
	}
	if row.TouchDue {
		if _, err := s.pool.Exec(ctx, `UPDATE web_sessions SET last_seen_at = now()
			WHERE id_hash = $1 AND last_seen_at < now() - `+sessionTouchEvery, idHash); err != nil {
			return Operator{}, fmt.Errorf("store: touch session: %w", err)
		}
	}
	return row.Operator, nil
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
