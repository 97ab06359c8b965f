package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// TokenRecord is what the console keeps of an issued token: never the token.
type TokenRecord struct {
	ID               string     `db:"id"`
	ProjectID        int64      `db:"project_id"`
	AppID            int64      `db:"app_id"`
	SecretVersion    int32      `db:"secret_version"`
	UserID           string     `db:"user_id"`
	RoomID           string     `db:"room_id"`
	PrivilegeLogin   *bool      `db:"privilege_login"`
	PrivilegePublish *bool      `db:"privilege_publish"`
	StreamIDs        []string   `db:"stream_ids"`
	CTime            time.Time  `db:"ctime"`
	Expire           time.Time  `db:"expire"`
	Nonce            int32      `db:"nonce"`
	Fingerprint      []byte     `db:"fingerprint"`
	Mode             string     `db:"mode"`
	Channel          string     `db:"channel"`
	IssuedByType     string     `db:"issued_by_type"`
	IssuedByID       string     `db:"issued_by_id"`
	IssuedByName     string     `db:"issued_by_name"`
	ClientIP         string     `db:"client_ip"`
	RevokedAt        *time.Time `db:"revoked_at"`
	RevokedBy        *string    `db:"revoked_by"`
	RevokeReason     *string    `db:"revoke_reason"`

	// JustRevoked is set by the revoke calls when this call revoked the
	// token, rather than finding it revoked already (metrics count those).
	JustRevoked bool `db:"-"`
	// Kick is where the kicks out of the token's room at ZEGO are
	// (KickQueued, KickDone, KickFailed), as the revoke calls found them;
	// "" when there are none.
	Kick string `db:"-"`
}

// Token states shown in lists and filters.
const (
	TokenActive  = "active"
	TokenExpired = "expired"
	TokenRevoked = "revoked"
)

// State tells whether the token is active, expired or revoked at now.
func (r TokenRecord) State(now time.Time) string {
	switch {
	case r.RevokedAt != nil:
		return TokenRevoked
	case !now.Before(r.Expire):
		return TokenExpired
	default:
		return TokenActive
	}
}

// HasPrivilegePayload tells whether the token carries room privileges.
func (r TokenRecord) HasPrivilegePayload() bool { return r.PrivilegeLogin != nil }

// PrivilegeNames lists the granted privileges ("login", "publish").
func (r TokenRecord) PrivilegeNames() []string {
	names := []string{}
	if r.PrivilegeLogin != nil && *r.PrivilegeLogin {
		names = append(names, "login")
	}
	if r.PrivilegePublish != nil && *r.PrivilegePublish {
		names = append(names, "publish")
	}
	return names
}

const tokenColumns = `id::text AS id, project_id, app_id, secret_version, user_id, room_id, privilege_login,
	privilege_publish, stream_ids, ctime, expire, nonce, fingerprint, mode, channel, issued_by_type,
	issued_by_id, issued_by_name, client_ip, revoked_at, revoked_by, revoke_reason`

func collectTokens(rows pgx.Rows, err error) ([]TokenRecord, error) {
	if err != nil {
		return nil, fmt.Errorf("store: tokens: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByName[TokenRecord])
	if err != nil {
		return nil, fmt.Errorf("store: tokens: %w", err)
	}
	return out, nil
}

func oneToken(rows pgx.Rows, err error) (TokenRecord, error) {
	recs, err := collectTokens(rows, err)
	if err != nil {
		return TokenRecord{}, err
	}
	if len(recs) == 0 {
		return TokenRecord{}, fmt.Errorf("store: %w", ErrTokenNotFound)
	}
	return recs[0], nil
}

// Token records are reached only through their project while it lives: a
// deleted project's records stay (its audit events tell their story), but
// no lookup, list or revocation finds them, not even through a new project
// given the same AppID.
const (
	// ofLiveProject keeps the records of live projects.
	ofLiveProject = `project_id IN (SELECT id FROM projects WHERE deleted_at IS NULL)`
	// liveProjectOf is the id of the live project with the AppID $n, to
	// complete with n.
	liveProjectOf = `(SELECT id FROM projects WHERE app_id = $%d AND deleted_at IS NULL)`
)

// TokenByID returns the record of a token of a live project.
func (s *Store) TokenByID(ctx context.Context, appID uint32, id string) (TokenRecord, error) {
	if !uuidRe.MatchString(id) {
		return TokenRecord{}, fmt.Errorf("store: %w", ErrTokenNotFound)
	}
	return oneToken(s.pool.Query(ctx, `SELECT `+tokenColumns+` FROM issued_tokens
		WHERE id = $1 AND project_id = `+fmt.Sprintf(liveProjectOf, 2), id, int64(appID)))
}

// TokenByFingerprint returns the record of the token with that SHA-256, if
// its project lives.
func (s *Store) TokenByFingerprint(ctx context.Context, fp []byte) (TokenRecord, error) {
	return oneToken(s.pool.Query(ctx, `SELECT `+tokenColumns+` FROM issued_tokens WHERE fingerprint = $1 AND `+ofLiveProject, fp))
}

// TokenFilter narrows the list of issued tokens.
type TokenFilter struct {
	AppID    uint32   // 0 = any
	AppIDs   []uint32 // when not nil, only these projects (a person's grant; empty: none)
	UserID   string
	RoomID   string
	IssuedBy string
	State    string // TokenActive, TokenExpired, TokenRevoked or ""
}

// ListTokens returns the tokens issued for live projects, newest first, at
// most limit, older than the token with id before (keyset pagination; ""
// for the first page).
func (s *Store) ListTokens(ctx context.Context, f TokenFilter, before string, limit int) ([]TokenRecord, error) {
	v := validator{}
	v.checkText("user_id", f.UserID)
	v.checkText("room_id", f.RoomID)
	v.checkText("issued_by", f.IssuedBy)
	if err := v.err(); err != nil {
		return nil, err
	}
	var where []string
	var args []any
	add := func(cond string, arg any) {
		args = append(args, arg)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if f.AppID != 0 {
		add("project_id = "+liveProjectOf, int64(f.AppID))
	} else {
		where = append(where, ofLiveProject)
	}
	if f.AppIDs != nil {
		apps := make([]int64, len(f.AppIDs))
		for i, id := range f.AppIDs {
			apps[i] = int64(id)
		}
		add("app_id = ANY($%d)", apps)
	}
	if f.UserID != "" {
		add("user_id = $%d", f.UserID)
	}
	if f.RoomID != "" {
		add("room_id = $%d", f.RoomID)
	}
	if f.IssuedBy != "" {
		add("issued_by_name = $%d", f.IssuedBy)
	}
	switch f.State {
	case TokenActive:
		where = append(where, "revoked_at IS NULL AND expire > now()")
	case TokenExpired:
		where = append(where, "revoked_at IS NULL AND expire <= now()")
	case TokenRevoked:
		where = append(where, "revoked_at IS NOT NULL")
	case "":
	default:
		return nil, &ValidationError{Fields: map[string]string{"state": "must be active, expired or revoked"}}
	}
	if before != "" {
		if !uuidRe.MatchString(before) {
			return nil, &ValidationError{Fields: map[string]string{"before": "is not a token id"}}
		}
		args = append(args, before)
		n := len(args)
		where = append(where, fmt.Sprintf("(ctime, id) < (SELECT ctime, id FROM issued_tokens WHERE id = $%d)", n))
	}
	q := `SELECT ` + tokenColumns + ` FROM issued_tokens WHERE ` + strings.Join(where, " AND ")
	args = append(args, limit)
	q += fmt.Sprintf(` ORDER BY ctime DESC, id DESC LIMIT $%d`, len(args))
	return collectTokens(s.pool.Query(ctx, q, args...))
}

// revoke marks rec revoked (if it is not already), queues its kicks and
// audits it in tx; a token revoked already says where its kicks are.
func (s *Store) revoke(ctx context.Context, tx pgx.Tx, rec *TokenRecord, reason string, actor Actor, origin Origin, action string) error {
	already := rec.RevokedAt != nil
	var kicks int64
	if !already {
		var at time.Time
		by := actor.Name
		if err := tx.QueryRow(ctx, `UPDATE issued_tokens SET revoked_at = now(), revoked_by = $2, revoke_reason = $3
			WHERE id = $1 AND revoked_at IS NULL RETURNING revoked_at`, rec.ID, by, nullable(reason)).Scan(&at); err != nil {
			if !errors.Is(err, pgx.ErrNoRows) {
				return fmt.Errorf("store: revoke token: %w", err)
			}
			already = true // revoked concurrently
		} else {
			rec.RevokedAt, rec.RevokedBy, rec.JustRevoked = &at, &by, true
			if reason != "" {
				rec.RevokeReason = &reason
			}
		}
	}
	if err := s.kicksOfRevoked(ctx, tx, rec, &kicks); err != nil {
		return err
	}
	return s.insertAudit(ctx, tx, Event{Actor: actor, Origin: origin, Action: action, Outcome: OutcomeSuccess,
		AppID: uint32(rec.AppID), ProjectID: rec.ProjectID, TargetType: "token", TargetID: rec.ID, TokenFingerprint: rec.Fingerprint,
		Details: map[string]any{"user_id": rec.UserID, "reason": reason, "already_revoked": already, "kicks_queued": kicks}})
}

// kicksOfRevoked queues the kicks of a token this call revoked, or finds
// where those of a token revoked before are, into rec.Kick.
func (s *Store) kicksOfRevoked(ctx context.Context, tx pgx.Tx, rec *TokenRecord, queued *int64) error {
	if rec.JustRevoked {
		n, err := queueKicks(ctx, tx, []string{rec.ID})
		if n > 0 {
			rec.Kick, *queued = KickQueued, n
		}
		return err
	}
	kicks, err := tokenKicks(ctx, tx, []string{rec.ID})
	rec.Kick = KickState(kicks[rec.ID])
	return err
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// RevokeToken revokes a token of a project by id. Revoking twice is not an
// error: the record comes back as it is.
func (s *Store) RevokeToken(ctx context.Context, appID uint32, id, reason string, actor Actor, origin Origin) (TokenRecord, error) {
	if err := validateReason(reason); err != nil {
		return TokenRecord{}, err
	}
	if !uuidRe.MatchString(id) {
		return TokenRecord{}, fmt.Errorf("store: %w", ErrTokenNotFound)
	}
	var rec TokenRecord
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		rec, err = oneToken(tx.Query(ctx, `SELECT `+tokenColumns+` FROM issued_tokens
			WHERE id = $1 AND project_id = `+fmt.Sprintf(liveProjectOf, 2)+` FOR UPDATE`, id, int64(appID)))
		if err != nil {
			return err
		}
		return s.revoke(ctx, tx, &rec, reason, actor, origin, "token.revoke")
	})
	if err == nil && rec.JustRevoked {
		s.observeTokensRevoked(rec.AppID, 1)
	}
	return rec, err
}

// RevokeByFingerprint revokes the token with that SHA-256 (revoke by pasting
// the token). allowed, when not nil, limits it to those AppIDs; when it
// refuses, the record comes back with ErrForbidden so the caller can audit
// which project was concerned.
func (s *Store) RevokeByFingerprint(ctx context.Context, fp []byte, reason string, allowed func(appID uint32) bool, actor Actor, origin Origin) (TokenRecord, error) {
	if err := validateReason(reason); err != nil {
		return TokenRecord{}, err
	}
	var rec TokenRecord
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		rec, err = oneToken(tx.Query(ctx, `SELECT `+tokenColumns+` FROM issued_tokens
			WHERE fingerprint = $1 AND `+ofLiveProject+` FOR UPDATE`, fp))
		if err != nil {
			return err
		}
		if allowed != nil && !allowed(uint32(rec.AppID)) {
			return fmt.Errorf("store: revoke token of project %d: %w", rec.AppID, ErrForbidden)
		}
		return s.revoke(ctx, tx, &rec, reason, actor, origin, "token.revoke")
	})
	if err == nil && rec.JustRevoked {
		s.observeTokensRevoked(rec.AppID, 1)
	}
	return rec, err
}

// UserRevocation is what revoking a user's tokens did.
type UserRevocation struct {
	Revoked int64  // tokens revoked
	Kick    string // KickQueued when kicks out of rooms were queued, else ""
}

// RevokeUserTokens revokes every active token of a user in the live
// project, queues the kicks out of their rooms, and reports how many; one
// token.revoke_user event records it. The user id is checked by the rule of
// issuing.
func (s *Store) RevokeUserTokens(ctx context.Context, appID uint32, userID, reason string, actor Actor, origin Origin) (UserRevocation, error) {
	var out UserRevocation
	err := s.inTx(ctx, func(tx pgx.Tx) (err error) {
		out, err = s.revokeUserTokens(ctx, tx, appID, userID, reason, actor, origin)
		return err
	})
	if err != nil {
		return UserRevocation{}, err
	}
	s.observeTokensRevoked(int64(appID), out.Revoked)
	return out, nil
}

// revokeUserTokens is RevokeUserTokens in tx, without telling the observer.
func (s *Store) revokeUserTokens(ctx context.Context, tx pgx.Tx, appID uint32, userID, reason string, actor Actor, origin Origin) (UserRevocation, error) {
	v := validator{}
	v.checkUserID(userID)
	v.checkReason(reason)
	if err := v.err(); err != nil {
		return UserRevocation{}, err
	}
	p, err := projectByAppID(ctx, tx, appID, "")
	if err != nil {
		return UserRevocation{}, err
	}
	rows, _ := tx.Query(ctx, `UPDATE issued_tokens SET revoked_at = now(), revoked_by = $3, revoke_reason = $4
		WHERE project_id = $1 AND user_id = $2 AND revoked_at IS NULL AND expire > now() RETURNING id::text`,
		p.ID, userID, actor.Name, nullable(reason))
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return UserRevocation{}, fmt.Errorf("store: revoke user tokens: %w", err)
	}
	out := UserRevocation{Revoked: int64(len(ids))}
	kicks, err := queueKicks(ctx, tx, ids)
	if err != nil {
		return UserRevocation{}, err
	}
	if kicks > 0 {
		out.Kick = KickQueued
	}
	return out, s.insertAudit(ctx, tx, Event{Actor: actor, Origin: origin, Action: "token.revoke_user", Outcome: OutcomeSuccess,
		AppID: appID, ProjectID: p.ID, TargetType: "user", TargetID: userID,
		Details: map[string]any{"user_id": userID, "reason": reason, "revoked": out.Revoked, "kicks_queued": kicks}})
}

// validateReason checks the reason of a revocation on its own.
func validateReason(reason string) error {
	v := validator{}
	v.checkReason(reason)
	return v.err()
}
