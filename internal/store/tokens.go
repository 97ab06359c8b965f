package store

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/zegocloud-console/console/internal/token04"
)

// Channels a token can be issued through.
const (
	ChannelUI  = "ui"
	ChannelAPI = "api"
	ChannelCLI = "cli"
)

// Limits on what a token may carry, beyond ZEGO's own.
const (
	maxRoomIDLength  = 128
	maxStreamIDs     = 20
	maxStreamIDBytes = 256
)

// Privileges are the RTC room rights a token grants.
type Privileges struct {
	Login   bool
	Publish bool
}

// IssueRequest is everything needed to issue a token; UI and API fill it the
// same way and call IssueToken, the one path that issues tokens.
type IssueRequest struct {
	AppID      uint32
	UserID     string
	TTL        time.Duration // 0 => the project's default
	RoomID     string
	Privileges *Privileges // nil => login only when a room or streams are given (or publish is forbidden), else no privilege payload
	StreamIDs  []string
	Mode       token04.Mode
	Channel    string
	Actor      Actor
	Origin     Origin
	Now        time.Time // zero => time.Now(); tests pin it
	// FieldErrors are what the channel found wrong while reading the request
	// (what only it spells, such as privilege names); IssueToken reports them
	// with its own, so that every invalid field is answered at once.
	FieldErrors map[string]string
}

// IssuedToken is a fresh token with its stored record. Token is shown once
// and never stored.
type IssuedToken struct {
	Token   string
	Record  TokenRecord
	Project Project // the project it was issued for, as it was then
}

// newUUID makes a random (version 4) UUID for a token record.
func newUUID() ([16]byte, error) {
	var u [16]byte
	if _, err := rand.Read(u[:]); err != nil {
		return u, err
	}
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return u, nil
}

func formatUUID(u [16]byte) string {
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}

// validate checks the request against ZEGO's rules and the project's policy
// and returns the lifetime and privilege payload to use.
func (r *IssueRequest) validate(p Project) (time.Duration, *token04.Privilege, error) {
	v := validator{}
	for field, reason := range r.FieldErrors {
		v[field] = reason
	}
	v.checkUserID(r.UserID)
	ttl := r.TTL
	if ttl == 0 {
		ttl = p.DefaultTTL()
	}
	v.check(ttl >= time.Second && ttl%time.Second == 0, "ttl_seconds", "must be a whole number of seconds, at least 1")
	v.check(ttl <= p.MaxTTL(), "ttl_seconds", "must not exceed the project's maximum of %d seconds", p.MaxTTLSeconds)
	v.check(utf8.RuneCountInString(r.RoomID) <= maxRoomIDLength && utf8.ValidString(r.RoomID), "room_id", "must be at most %d characters of valid UTF-8", maxRoomIDLength)
	v.checkText("room_id", r.RoomID)
	v.check(len(r.StreamIDs) <= maxStreamIDs, "stream_ids", "at most %d stream ids", maxStreamIDs)
	for _, sid := range r.StreamIDs {
		v.check(sid != "" && len(sid) <= maxStreamIDBytes && utf8.ValidString(sid), "stream_ids", "each stream id must be 1 to %d bytes of valid UTF-8", maxStreamIDBytes)
		v.check(!containsNUL(sid), "stream_ids", "each stream id must be without NUL characters")
	}
	v.check(r.Mode == token04.ModeGCM || r.Mode == token04.ModeCBC, "mode", "must be gcm or cbc")
	var priv *token04.Privilege
	// A token without a privilege payload is unrestricted at ZEGO, so a
	// project that forbids publishing always gets an explicit payload.
	if r.Privileges != nil || r.RoomID != "" || len(r.StreamIDs) > 0 || !p.PublishAllowed {
		pr := Privileges{Login: true}
		if r.Privileges != nil {
			pr = *r.Privileges
		}
		v.check(!pr.Publish || p.PublishAllowed, "privileges", "this project's policy does not allow the publish privilege")
		priv = &token04.Privilege{RoomID: r.RoomID, Login: pr.Login, Publish: pr.Publish, StreamIDs: r.StreamIDs}
	}
	if err := v.err(); err != nil {
		return 0, nil, err
	}
	return ttl, priv, nil
}

// IssueToken validates the request, makes the token, and commits its record
// and its token.issue audit event in one statement; the token is returned,
// and the observer told, only once both are committed (fail closed).
func (s *Store) IssueToken(ctx context.Context, r IssueRequest) (IssuedToken, error) {
	issued, err := s.issueToken(ctx, s.pool, r)
	if err != nil {
		return IssuedToken{}, err
	}
	s.observeTokensIssued(issued.Record.AppID, issued.Record.Channel, 1)
	return issued, nil
}

// issueToken is IssueToken on db, a pool or a transaction, without telling
// the observer: the caller does once db has committed.
func (s *Store) issueToken(ctx context.Context, db dbtx, r IssueRequest) (IssuedToken, error) {
	p, sec, err := activeSecret(ctx, db, r.AppID)
	if err != nil {
		return IssuedToken{}, fmt.Errorf("issue token: %w", err)
	}
	if p.Disabled {
		return IssuedToken{}, fmt.Errorf("issue token: project %d: %w", r.AppID, ErrProjectDisabled)
	}
	ttl, priv, err := r.validate(p)
	if err != nil {
		return IssuedToken{}, err
	}
	secret, err := s.open(sec)
	if err != nil {
		return IssuedToken{}, fmt.Errorf("issue token: %w", err)
	}
	payload := ""
	if priv != nil {
		payload = priv.Payload()
	}
	token, claims, err := token04.Generate(token04.Params{AppID: r.AppID, UserID: r.UserID, Secret: secret,
		EffectiveSeconds: int64(ttl / time.Second), Payload: payload, Mode: r.Mode, Now: r.Now})
	clear(secret)
	if err != nil {
		return IssuedToken{}, fmt.Errorf("issue token: %w", err)
	}
	uuid, err := newUUID()
	if err != nil {
		return IssuedToken{}, fmt.Errorf("issue token: %w", err)
	}
	if s.beforeIssueInsert != nil {
		s.beforeIssueInsert()
	}
	fp := token04.FingerprintSum(token)
	rec, event := tokenIssue{id: formatUUID(uuid), project: p, userID: r.UserID, privilege: priv,
		ctime: time.Unix(claims.CTime, 0), ttl: ttl, nonce: claims.Nonce, fingerprint: fp[:], mode: r.Mode,
		channel: r.Channel, actor: r.Actor, origin: r.Origin}.recordAndEvent()
	if err := s.insertTokenAndAudit(ctx, db, rec, event); err != nil {
		return IssuedToken{}, fmt.Errorf("issue token: %w", err)
	}
	return IssuedToken{Token: token, Record: rec, Project: p}, nil
}

// issuedTokenArgTypes are the column types of the token record's parameters
// in insertTokenAndAudit's INSERT … SELECT.
var issuedTokenArgTypes = []string{"uuid", "bigint", "bigint", "integer", "text", "text", "boolean", "boolean", "text[]",
	"timestamptz", "timestamptz", "integer", "bytea", "text", "text", "text", "text", "text", "text"}

// insertTokenAndAudit writes the record and the event in one statement, which
// PostgreSQL commits atomically: one round trip on the hottest path. It
// writes them only if the project is still live and enabled and the secret
// that sealed the token still its active one: what activeSecret read may
// have changed since. The check locks the project's row, then the secret's,
// and looks again at what a transaction it waited for committed: the
// project FOR KEY SHARE (which the record's foreign key takes anyway), which
// waits for an admin who holds it FOR UPDATE, as disabling, deleting and
// rotating do; the secret FOR SHARE, which waits for any change to it (a
// rotation retires it, a deletion removes it), where KEY SHARE would let a
// change that keeps its key through unseen. An admin who comes second waits
// for the issue. Either the token was issued before the change or it is not
// issued at all. The project is locked first, as the admins lock it, so that
// no admin waits for a secret the issue holds while the issue waits for it.
func (s *Store) insertTokenAndAudit(ctx context.Context, db dbtx, rec TokenRecord, e Event) error {
	start := time.Now()
	auditSQL, auditArgs, err := auditInsertSQL(e, len(issuedTokenArgTypes)+1)
	if err != nil {
		return err
	}
	args := append([]any{rec.ID, rec.ProjectID, rec.AppID, rec.SecretVersion, rec.UserID, rec.RoomID,
		rec.PrivilegeLogin, rec.PrivilegePublish, rec.StreamIDs, rec.CTime, rec.Expire, rec.Nonce,
		rec.Fingerprint, rec.Mode, rec.Channel, rec.IssuedByType, rec.IssuedByID, rec.IssuedByName, rec.ClientIP}, auditArgs...)
	tag, err := db.Exec(ctx, `
		WITH live AS (
			SELECT FROM projects p JOIN project_secrets sec ON sec.project_id = p.id
			WHERE p.id = $2 AND NOT p.disabled AND p.deleted_at IS NULL AND sec.version = $4 AND sec.active
			FOR KEY SHARE OF p FOR SHARE OF sec
		), t AS (
			INSERT INTO issued_tokens (id, project_id, app_id, secret_version, user_id, room_id,
				privilege_login, privilege_publish, stream_ids, ctime, expire, nonce, fingerprint, mode,
				channel, issued_by_type, issued_by_id, issued_by_name, client_ip)
			SELECT `+strings.Join(typedPlaceholders(1, issuedTokenArgTypes), ", ")+` FROM live
			RETURNING id
		) `+auditSQL+` FROM t`, args...)
	if err != nil {
		return fmt.Errorf("store: insert token record and audit event: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return s.whyNotIssued(ctx, db, rec)
	}
	s.observeAuditWrite(start)
	return nil
}

// whyNotIssued tells why insertTokenAndAudit found the project of rec no
// longer as activeSecret had read it.
func (s *Store) whyNotIssued(ctx context.Context, db dbtx, rec TokenRecord) error {
	var disabled, deleted bool
	var active *int32
	err := db.QueryRow(ctx, `SELECT p.disabled, p.deleted_at IS NOT NULL,
			(SELECT version FROM project_secrets sec WHERE sec.project_id = p.id AND sec.active)
		FROM projects p WHERE p.id = $1`, rec.ProjectID).Scan(&disabled, &deleted, &active)
	switch {
	case err != nil:
		return fmt.Errorf("store: project %d changed while the token was being issued: %w", rec.AppID, err)
	case deleted:
		return fmt.Errorf("store: project %d: %w", rec.AppID, ErrProjectDeleted)
	case active == nil || *active != rec.SecretVersion:
		return fmt.Errorf("store: project %d: secret version %d: %w", rec.AppID, rec.SecretVersion, ErrSecretRotated)
	default:
		// Versions only grow and deletion is final: the project was disabled,
		// perhaps enabled again since.
		return fmt.Errorf("store: project %d: %w", rec.AppID, ErrProjectDisabled)
	}
}

// activeSecret returns a live project and its active sealed secret.
func activeSecret(ctx context.Context, db dbtx, appID uint32) (Project, sealedSecret, error) {
	var p Project
	var sec sealedSecret
	err := db.QueryRow(ctx, `
		SELECT p.id, p.app_id, p.name, p.environment, p.default_ttl_seconds, p.max_ttl_seconds,
			p.publish_allowed, p.disabled, p.created_at, p.updated_at,
			s.version, s.key_id, s.ciphertext, s.created_at, s.created_by
		FROM projects p LEFT JOIN project_secrets s ON s.project_id = p.id AND s.active
		WHERE p.app_id = $1 AND p.deleted_at IS NULL`, int64(appID)).Scan(
		&p.ID, &p.AppID, &p.Name, &p.Environment, &p.DefaultTTLSeconds, &p.MaxTTLSeconds,
		&p.PublishAllowed, &p.Disabled, &p.CreatedAt, &p.UpdatedAt,
		&sec.Version, &sec.KeyID, &sec.Ciphertext, &sec.CreatedAt, &sec.CreatedBy)
	if errors.Is(err, pgx.ErrNoRows) {
		return p, sec, fmt.Errorf("store: project %d: %w", appID, ErrProjectNotFound)
	}
	if err != nil {
		return p, sec, fmt.Errorf("store: project %d: %w", appID, err)
	}
	if sec.KeyID == "" {
		return p, sec, fmt.Errorf("store: project %d: %w", appID, errNoActiveSecret)
	}
	p.SecretVersion, sec.ProjectID, sec.Active = sec.Version, p.ID, true
	return p, sec, nil
}
