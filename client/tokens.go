package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Kick states of a revoked token, for a project that kicks on revoke.
const (
	KickQueued = "queued" // the console will call ZEGO shortly (a revoke answer never waits for ZEGO)
	KickDone   = "done"   // the user was kicked out of the room, or was not in it
	KickFailed = "failed" // ZEGO refused for good, or the last retry failed
)

// Project is a project the key may use, with its policy.
type Project struct {
	AppID             uint32   `json:"app_id"`
	Name              string   `json:"name"`
	Environment       string   `json:"environment"`
	DefaultTTLSeconds int      `json:"default_ttl_seconds"`
	MaxTTLSeconds     int      `json:"max_ttl_seconds"`
	PublishAllowed    bool     `json:"publish_allowed"`
	Disabled          bool     `json:"disabled"`
	KickOnRevoke      bool     `json:"kick_on_revoke"`
	ZegoServices      []string `json:"zego_services"` // "rtc", "zim"
	ZegoRegion        string   `json:"zego_region"`
}

// IssueRequest asks for a token for a user.
type IssueRequest struct {
	UserID     string        `json:"user_id"`
	TTL        time.Duration `json:"-"`                    // 0: the project's default; whole seconds
	RoomID     string        `json:"room_id,omitempty"`    // the room the token is limited to
	Privileges []string      `json:"privileges,omitempty"` // "login", "publish"; nil: the default
	StreamIDs  []string      `json:"stream_ids,omitempty"`
	Mode       string        `json:"mode,omitempty"` // "gcm" (default) or "cbc"
}

// issueBody is an IssueRequest as the API reads it.
type issueBody struct {
	IssueRequest
	TTLSeconds int64 `json:"ttl_seconds,omitempty"`
}

// TokenRecord is what the console keeps of a token: never the token.
// Fields of the revocation are set once it is revoked; State, Channel and
// IssuedBy only by Token.
type TokenRecord struct {
	ID          string     `json:"id"`
	AppID       uint32     `json:"app_id"`
	UserID      string     `json:"user_id"`
	IssuedAt    time.Time  `json:"issued_at"`
	ExpiresAt   time.Time  `json:"expires_at"`
	Mode        string     `json:"mode"`
	Fingerprint string     `json:"fingerprint"` // SHA-256 of the token, hex
	RoomID      *string    `json:"room_id,omitempty"`
	Privileges  []string   `json:"privileges,omitempty"`
	StreamIDs   []string   `json:"stream_ids,omitempty"`
	State       string     `json:"state,omitempty"` // "active", "expired", "revoked"
	Channel     string     `json:"channel,omitempty"`
	IssuedBy    string     `json:"issued_by,omitempty"`
	Revoked     bool       `json:"revoked"`
	RevokedAt   *time.Time `json:"revoked_at,omitempty"`
	RevokedBy   string     `json:"revoked_by,omitempty"`
	Reason      string     `json:"reason,omitempty"`
	Kick        string     `json:"kick,omitempty"`  // KickQueued, KickDone, KickFailed; "" when no kick
	Kicks       []Kick     `json:"kicks,omitempty"` // each kick with ZEGO's last answer; only from Token
}

// Kick is the kick of a revoked token's user out of its room in one ZEGO
// product, with ZEGO's answer to the last attempt.
type Kick struct {
	Service   string    `json:"service"` // "rtc" or "zim"
	RoomID    string    `json:"room_id"`
	Status    string    `json:"status"` // KickQueued, KickDone, KickFailed
	Attempts  int       `json:"attempts"`
	Code      *int64    `json:"code,omitempty"` // ZEGO's Code
	Message   string    `json:"message"`        // ZEGO's Message, or why there was no answer
	RequestID string    `json:"request_id"`     // ZEGO's RequestId
	UpdatedAt time.Time `json:"updated_at"`
}

// IssuedToken is a fresh token and its record. Token is shown this once.
type IssuedToken struct {
	TokenRecord
	Token string `json:"token"`
}

// UserRevocation is what revoking a user's tokens did.
type UserRevocation struct {
	AppID   uint32 `json:"app_id"`
	UserID  string `json:"user_id"`
	Revoked int64  `json:"revoked"`        // tokens revoked now
	Kick    string `json:"kick,omitempty"` // KickQueued when kicks were queued
}

// ValueRevocation is what revoking a presented token did.
type ValueRevocation struct {
	Revoked bool   `json:"revoked"` // false: not issued here, or of a project the key may not revoke in
	Kick    string `json:"kick,omitempty"`
}

// Introspection tells whether a token is active (RFC 7662 style); the
// claims are set when the token verified with a secret of the key's projects.
type Introspection struct {
	Active     bool     `json:"active"`
	Reason     string   `json:"reason,omitempty"` // why not: "revoked", "expired", "unknown_secret", …
	AppID      uint32   `json:"app_id,omitempty"`
	Sub        string   `json:"sub,omitempty"` // the user id
	Iat        int64    `json:"iat,omitempty"`
	Exp        int64    `json:"exp,omitempty"`
	Mode       string   `json:"mode,omitempty"`
	RoomID     *string  `json:"room_id,omitempty"`
	Privileges []string `json:"privileges,omitempty"`
	StreamIDs  []string `json:"stream_ids,omitempty"`
	Revoked    bool     `json:"revoked"`
	TokenID    string   `json:"token_id,omitempty"`
	IssuedHere bool     `json:"issued_here"`
}

func projectPath(appID uint32) string {
	return "/api/v1/projects/" + strconv.FormatUint(uint64(appID), 10)
}

// Projects lists the projects the key may use.
func (c *Client) Projects(ctx context.Context) ([]Project, error) {
	var out struct{ Projects []Project }
	err := c.call(ctx, http.MethodGet, "/api/v1/projects", nil, nil, &out)
	return out.Projects, err
}

// Issue issues a token of project appID; the answer comes once the record
// and its audit event are committed.
func (c *Client) Issue(ctx context.Context, appID uint32, r IssueRequest) (*IssuedToken, error) {
	var out IssuedToken
	body := issueBody{IssueRequest: r, TTLSeconds: int64(r.TTL / time.Second)}
	if err := c.call(ctx, http.MethodPost, projectPath(appID)+"/tokens", nil, body, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Token returns the record of a token of project appID by its id.
func (c *Client) Token(ctx context.Context, appID uint32, id string) (*TokenRecord, error) {
	var out TokenRecord
	if err := c.call(ctx, http.MethodGet, projectPath(appID)+"/tokens/"+url.PathEscape(id), nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

type reasonBody struct {
	Reason string `json:"reason,omitempty"`
}

// RevokeToken revokes a token of project appID by id (reason may be "");
// revoking it again is not an error.
func (c *Client) RevokeToken(ctx context.Context, appID uint32, id, reason string) (*TokenRecord, error) {
	var out TokenRecord
	if err := c.call(ctx, http.MethodPost, projectPath(appID)+"/tokens/"+url.PathEscape(id)+"/revoke", nil, reasonBody{reason}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// RevokeUser revokes every active token of a user in project appID.
func (c *Client) RevokeUser(ctx context.Context, appID uint32, userID, reason string) (*UserRevocation, error) {
	var out UserRevocation
	if err := c.call(ctx, http.MethodPost, projectPath(appID)+"/users/"+url.PathEscape(userID)+"/revoke", nil, reasonBody{reason}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// RevokeTokenValue revokes a token presented as itself (RFC 7009 style).
func (c *Client) RevokeTokenValue(ctx context.Context, token, reason string) (*ValueRevocation, error) {
	var out ValueRevocation
	body := struct {
		Token  string `json:"token"`
		Reason string `json:"reason,omitempty"`
	}{token, reason}
	if err := c.call(ctx, http.MethodPost, "/api/v1/tokens/revoke", nil, body, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Introspect asks whether a presented token is active.
func (c *Client) Introspect(ctx context.Context, token string) (*Introspection, error) {
	var out Introspection
	body := struct {
		Token string `json:"token"`
	}{token}
	if err := c.call(ctx, http.MethodPost, "/api/v1/tokens/introspect", nil, body, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
