package store

import (
	"context"
	"crypto/rand"
	"fmt"
	"slices"
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
// and its token.issue audit event; the token is returned, and the observer
// told, only once both are committed (fail closed). While group commit runs
// (RunIssueGroupCommit), concurrent calls share one statement and commit.
func (s *Store) IssueToken(ctx context.Context, r IssueRequest) (IssuedToken, error) {
	if g := s.group.Load(); g != nil {
		if issued, err, ok := g.issue(ctx, r); ok {
			return issued, err
		}
	}
	issued, err := s.issueOne(ctx, s.pool, r)
	if err != nil {
		return IssuedToken{}, err
	}
	s.observeIssued([]IssuedToken{issued})
	return issued, nil
}

// issueOne is IssueToken for one request on db, a pool or a transaction,
// without group commit and without telling the observer: the caller does
// once db has committed.
func (s *Store) issueOne(ctx context.Context, db dbtx, r IssueRequest) (IssuedToken, error) {
	issued, errs, err := s.issueTokens(ctx, db, []IssueRequest{r}, false)
	if err != nil {
		return IssuedToken{}, fmt.Errorf("issue token: %w", err)
	}
	if errs[0] != nil {
		return IssuedToken{}, errs[0]
	}
	return issued[0], nil
}

// observeIssued tells the observer of tokens committed.
func (s *Store) observeIssued(issued []IssuedToken) {
	for _, it := range issued {
		s.observeTokensIssued(it.Record.AppID, it.Record.Channel, 1)
	}
}

// issueTokens issues the tokens of reqs on db (a pool or a transaction): one
// read of their projects and active secrets, the tokens made here, then one
// statement that writes the record and token.issue event of each request
// that passed. errs[i] is what kept reqs[i] from being issued (its input, or
// its project disabled, deleted or rotated meanwhile), and issued[i] is its
// token when errs[i] is nil; err is a failure of the whole, after which none
// was written. With allOrNothing, nothing is written when any request is
// refused before writing.
func (s *Store) issueTokens(ctx context.Context, db dbtx, reqs []IssueRequest, allOrNothing bool) (issued []IssuedToken, errs []error, err error) {
	appIDs := make([]int64, 0, 1)
	for _, r := range reqs {
		if !slices.Contains(appIDs, int64(r.AppID)) {
			appIDs = append(appIDs, int64(r.AppID))
		}
	}
	projects, err := activeSecrets(ctx, db, appIDs)
	if err != nil {
		return nil, nil, err
	}
	secrets := map[uint32][]byte{}
	defer func() {
		for _, secret := range secrets {
			clear(secret)
		}
	}()
	issued, errs = make([]IssuedToken, len(reqs)), make([]error, len(reqs))
	recs, events, made := make([]TokenRecord, 0, len(reqs)), make([]Event, 0, len(reqs)), make([]int, 0, len(reqs))
	for i, r := range reqs {
		ps, found := projects[r.AppID]
		if !found {
			errs[i] = fmt.Errorf("issue token: store: project %d: %w", r.AppID, ErrProjectNotFound)
			continue
		}
		secret, opened := secrets[r.AppID]
		if !opened && ps.secret.KeyID != "" {
			if secret, err = s.open(ps.secret); err != nil {
				return nil, nil, fmt.Errorf("issue token: %w", err)
			}
			secrets[r.AppID] = secret
		}
		var e Event
		if issued[i], e, errs[i] = makeToken(ps.project, secret, r); errs[i] == nil {
			recs, events, made = append(recs, issued[i].Record), append(events, e), append(made, i)
		}
	}
	if len(recs) == 0 || (allOrNothing && len(recs) < len(reqs)) {
		return issued, errs, nil
	}
	if s.beforeIssueInsert != nil {
		var pid uint32
		if c, ok := db.(interface{ Conn() *pgx.Conn }); ok {
			pid = c.Conn().PgConn().PID()
		}
		s.beforeIssueInsert(pid)
	}
	refused, err := s.insertTokensAndAudit(ctx, db, recs, events)
	if err != nil {
		return nil, nil, err
	}
	for k, i := range made {
		if refused[k] != nil {
			issued[i], errs[i] = IssuedToken{}, fmt.Errorf("issue token: %w", refused[k])
		}
	}
	return issued, errs, nil
}

// makeToken validates r against its project p and makes its token with the
// project's opened secret (nil when it has none): the token, its record and
// its token.issue event, not yet written.
func makeToken(p Project, secret []byte, r IssueRequest) (IssuedToken, Event, error) {
	if p.Disabled {
		return IssuedToken{}, Event{}, fmt.Errorf("issue token: project %d: %w", r.AppID, ErrProjectDisabled)
	}
	if secret == nil {
		return IssuedToken{}, Event{}, fmt.Errorf("issue token: store: project %d: %w", r.AppID, errNoActiveSecret)
	}
	ttl, priv, err := r.validate(p)
	if err != nil {
		return IssuedToken{}, Event{}, err
	}
	payload := ""
	if priv != nil {
		payload = priv.Payload()
	}
	token, claims, err := token04.Generate(token04.Params{AppID: r.AppID, UserID: r.UserID, Secret: secret,
		EffectiveSeconds: int64(ttl / time.Second), Payload: payload, Mode: r.Mode, Now: r.Now})
	if err != nil {
		return IssuedToken{}, Event{}, fmt.Errorf("issue token: %w", err)
	}
	uuid, err := newUUID()
	if err != nil {
		return IssuedToken{}, Event{}, fmt.Errorf("issue token: %w", err)
	}
	fp := token04.FingerprintSum(token)
	rec, event := tokenIssue{id: formatUUID(uuid), project: p, userID: r.UserID, privilege: priv,
		ctime: time.Unix(claims.CTime, 0), ttl: ttl, nonce: claims.Nonce, fingerprint: fp[:], mode: r.Mode,
		channel: r.Channel, actor: r.Actor, origin: r.Origin}.recordAndEvent()
	return IssuedToken{Token: token, Record: rec, Project: p}, event, nil
}

// projectSecret is a live project with its active sealed secret (KeyID
// empty when it has none).
type projectSecret struct {
	project Project
	secret  sealedSecret
}

// activeSecrets reads the live projects with the given AppIDs and their
// active sealed secrets, by AppID; an AppID without a live project is left
// out.
func activeSecrets(ctx context.Context, db dbtx, appIDs []int64) (map[uint32]projectSecret, error) {
	rows, err := db.Query(ctx, `
		SELECT p.id, p.app_id, p.name, p.environment, p.default_ttl_seconds, p.max_ttl_seconds,
			p.publish_allowed, p.disabled, p.created_at, p.updated_at,
			s.version, s.key_id, s.ciphertext, s.created_at, s.created_by
		FROM projects p LEFT JOIN project_secrets s ON s.project_id = p.id AND s.active
		WHERE p.app_id = ANY($1) AND p.deleted_at IS NULL`, appIDs)
	if err != nil {
		return nil, fmt.Errorf("store: projects %v: %w", appIDs, err)
	}
	out := make(map[uint32]projectSecret, len(appIDs))
	var p Project
	var sec struct {
		Version    *int32
		KeyID      *string
		Ciphertext []byte
		CreatedAt  *time.Time
		CreatedBy  *string
	}
	_, err = pgx.ForEachRow(rows, []any{&p.ID, &p.AppID, &p.Name, &p.Environment, &p.DefaultTTLSeconds, &p.MaxTTLSeconds,
		&p.PublishAllowed, &p.Disabled, &p.CreatedAt, &p.UpdatedAt,
		&sec.Version, &sec.KeyID, &sec.Ciphertext, &sec.CreatedAt, &sec.CreatedBy}, func() error {
		ps := projectSecret{project: p}
		if sec.KeyID != nil {
			ps.project.SecretVersion = *sec.Version
			ps.secret = sealedSecret{ProjectID: p.ID, Version: *sec.Version, KeyID: *sec.KeyID, Ciphertext: sec.Ciphertext,
				Active: true, CreatedAt: *sec.CreatedAt, CreatedBy: *sec.CreatedBy}
		}
		out[uint32(p.AppID)] = ps
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: projects %v: %w", appIDs, err)
	}
	return out, nil
}
