package store

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// StageSecondFactor is the stage of a session whose password was right and
// whose second factor is awaited: it reaches nothing but the second-factor
// page.
const StageSecondFactor = "second_factor"

// SignInPasskey is the method of a sign-in with a passkey alone.
const SignInPasskey = "passkey"

// SessionStart is what a new web session is made of.
type SessionStart struct {
	OperatorID int64
	MaxAge     time.Duration // the session ends at the latest this long after it starts
	Method     string        // SignInPassword (""), SignInOIDC or SignInPasskey
	Stage      string        // "" (signed in) or StageSecondFactor
	Origin     Origin        // the address and browser, shown on the person's account page
}

// StartSession starts a session and returns its raw id for the cookie; only
// the id's SHA-256 is stored. The session counts as just verified (step-up).
func (s *Store) StartSession(ctx context.Context, in SessionStart) (string, error) {
	if in.MaxAge <= 0 {
		return "", fmt.Errorf("store: create session: max age %v is not positive", in.MaxAge)
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("store: create session: %w", err)
	}
	rawID := base64.RawURLEncoding.EncodeToString(raw)
	if in.Method == "" {
		in.Method = SignInPassword
	}
	var stage *string
	if in.Stage != "" {
		stage = &in.Stage
	}
	_, err := s.pool.Exec(ctx, `
		INSERT INTO web_sessions (id_hash, operator_id, expires_at, method, stage, client_ip, user_agent)
		VALUES ($1, $2, now() + $3::float8 * interval '1 second', $4, $5, $6, $7)`,
		sessionIDHash(rawID), in.OperatorID, in.MaxAge.Seconds(), in.Method, stage,
		auditText(in.Origin.ClientIP, 64), auditText(in.Origin.UserAgent, 300))
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23503" {
		return "", ErrOperatorNotFound
	}
	if err != nil {
		return "", fmt.Errorf("store: create session: %w", err)
	}
	return rawID, nil
}

// WebSession is a live session: its operator, how far the sign-in got, and
// how long ago the person last proved who they are.
type WebSession struct {
	Operator
	Key         string        // names the session on the account page (hex of its id's hash), never the id itself
	Stage       string        // "" or StageSecondFactor
	Method      string        // how it was signed in to
	VerifiedAgo time.Duration // since the sign-in, second factor or step-up, by the database's clock
}

// webSessionRow is a live session as read, with whether last_seen_at is due
// for a refresh.
type webSessionRow struct {
	Operator
	Key         string  `db:"session_key"`
	Stage       string  `db:"stage"`
	Method      string  `db:"method"`
	VerifiedAgo float64 `db:"verified_ago_s"`
	TouchDue    bool    `db:"touch_due"`
}

// LookupWebSession returns a live session: not past its absolute expiry,
// seen within idle (no idle limit when idle <= 0), operator enabled. It
// refreshes last_seen_at at most every 30 seconds to spare writes.
func (s *Store) LookupWebSession(ctx context.Context, rawID string, idle time.Duration) (WebSession, error) {
	if !validSessionID(rawID) {
		return WebSession{}, ErrSessionNotFound
	}
	idHash := sessionIDHash(rawID)
	rows, _ := s.pool.Query(ctx, `
		SELECT `+operatorColumns+`, encode(ws.id_hash, 'hex') AS session_key, coalesce(ws.stage, '') AS stage, ws.method,
			extract(epoch FROM now() - ws.verified_at)::float8 AS verified_ago_s,
			ws.last_seen_at < now() - `+sessionTouchEvery+` AS touch_due
		FROM web_sessions ws JOIN operators ON operators.id = ws.operator_id
		WHERE ws.id_hash = $1 AND ws.expires_at > now() AND NOT operators.disabled
			AND ($2::float8 <= 0 OR ws.last_seen_at > now() - $2::float8 * interval '1 second')`,
		idHash, idle.Seconds())
	row, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[webSessionRow])
	if errors.Is(err, pgx.ErrNoRows) {
		return WebSession{}, ErrSessionNotFound
	}
	if err != nil {
		return WebSession{}, fmt.Errorf("store: lookup session: %w", err)
	}
	if row.TouchDue {
		if _, err := s.pool.Exec(ctx, `UPDATE web_sessions SET last_seen_at = now()
			WHERE id_hash = $1 AND last_seen_at < now() - `+sessionTouchEvery, idHash); err != nil {
			return WebSession{}, fmt.Errorf("store: touch session: %w", err)
		}
	}
	return WebSession{Operator: row.Operator, Key: row.Key, Stage: row.Stage, Method: row.Method,
		VerifiedAgo: time.Duration(row.VerifiedAgo * float64(time.Second))}, nil
}

// markVerified notes, in tx, that the person of the session rawID just proved
// who they are again (step-up).
func markVerified(ctx context.Context, tx pgx.Tx, rawID string) error {
	if _, err := tx.Exec(ctx, `UPDATE web_sessions SET verified_at = now() WHERE id_hash = $1`, sessionIDHash(rawID)); err != nil {
		return fmt.Errorf("store: mark session verified: %w", err)
	}
	return nil
}

// SessionInfo is one of a person's live sessions, as their account page
// lists it.
type SessionInfo struct {
	Key        string    `db:"session_key"`
	Method     string    `db:"method"`
	ClientIP   string    `db:"client_ip"`
	UserAgent  string    `db:"user_agent"`
	CreatedAt  time.Time `db:"created_at"`
	LastSeenAt time.Time `db:"last_seen_at"`
	Current    bool      `db:"current"` // the session that asks
}

// ListSessions returns the live, signed-in sessions of an operator, the
// current one (rawID) marked, most recently seen first.
func (s *Store) ListSessions(ctx context.Context, operatorID int64, rawID string) ([]SessionInfo, error) {
	rows, _ := s.pool.Query(ctx, `
		SELECT encode(id_hash, 'hex') AS session_key, method, client_ip, user_agent, created_at, last_seen_at,
			id_hash = $2 AS current
		FROM web_sessions WHERE operator_id = $1 AND expires_at > now() AND stage IS NULL
		ORDER BY id_hash = $2 DESC, last_seen_at DESC`, operatorID, sessionIDHash(rawID))
	out, err := pgx.CollectRows(rows, pgx.RowToStructByName[SessionInfo])
	if err != nil {
		return nil, fmt.Errorf("store: list sessions: %w", err)
	}
	return out, nil
}

// EndSession ends one of the operator's own sessions, named by its key, and
// audits account.session_end. A key that names no session of theirs is
// ErrSessionNotFound.
func (s *Store) EndSession(ctx context.Context, operatorID int64, key string, actor Actor, origin Origin) error {
	idHash, err := hex.DecodeString(key)
	if err != nil || len(idHash) != 32 {
		return ErrSessionNotFound
	}
	return s.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM web_sessions WHERE id_hash = $1 AND operator_id = $2`, idHash, operatorID)
		if err != nil {
			return fmt.Errorf("store: end session: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return ErrSessionNotFound
		}
		return s.insertAudit(ctx, tx, Event{Actor: actor, Origin: origin, Action: "account.session_end", Outcome: OutcomeSuccess,
			TargetType: "operator", TargetID: strconv.FormatInt(operatorID, 10), Details: map[string]any{"sessions": 1}})
	})
}

// EndOtherSessions ends every session of the operator but rawID, audits
// account.session_end with how many ended, and returns that number.
func (s *Store) EndOtherSessions(ctx context.Context, operatorID int64, rawID string, actor Actor, origin Origin) (int64, error) {
	var n int64
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		if n, err = deleteOtherSessions(ctx, tx, operatorID, rawID); err != nil {
			return err
		}
		return s.insertAudit(ctx, tx, Event{Actor: actor, Origin: origin, Action: "account.session_end", Outcome: OutcomeSuccess,
			TargetType: "operator", TargetID: strconv.FormatInt(operatorID, 10), Details: map[string]any{"sessions": n, "others": true}})
	})
	return n, err
}

// deleteOtherSessions ends, in tx, every session of the operator but rawID.
func deleteOtherSessions(ctx context.Context, tx pgx.Tx, operatorID int64, rawID string) (int64, error) {
	tag, err := tx.Exec(ctx, `DELETE FROM web_sessions WHERE operator_id = $1 AND id_hash <> $2`, operatorID, sessionIDHash(rawID))
	if err != nil {
		return 0, fmt.Errorf("store: end other sessions: %w", err)
	}
	return tag.RowsAffected(), nil
}
