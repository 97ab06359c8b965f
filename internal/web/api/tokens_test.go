package api_test

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/token04"
	"github.com/zegocloud-console/console/internal/web"
	"github.com/zegocloud-console/console/internal/web/webtest"
)

// issuedToken is the API's answer to an issue.
type issuedToken struct {
	ID          string    `json:"id"`
	Token       string    `json:"token"`
	AppID       uint32    `json:"app_id"`
	UserID      string    `json:"user_id"`
	IssuedAt    time.Time `json:"issued_at"`
	ExpiresAt   time.Time `json:"expires_at"`
	Mode        string    `json:"mode"`
	Fingerprint string    `json:"fingerprint"`
	RoomID      *string   `json:"room_id"`
	Privileges  []string  `json:"privileges"`
	StreamIDs   []string  `json:"stream_ids"`
}

// issue issues a token through the API and fails unless it is created.
func (a *apiEnv) issue(t *testing.T, key string, appID string, body any) issuedToken {
	t.Helper()
	res := a.post(t, "/api/v1/projects/"+appID+"/tokens", key, body)
	if res.status != http.StatusCreated {
		t.Fatalf("issue: got status %d (%s), want 201", res.status, res.body)
	}
	var tok issuedToken
	res.decode(t, &tok)
	a.remember(tok.Token)
	if want := "/api/v1/projects/" + appID + "/tokens/" + tok.ID; res.header.Get("Location") != want {
		t.Fatalf("got Location %q, want %q", res.header.Get("Location"), want)
	}
	if res.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("got Cache-Control %q, want no-store", res.header.Get("Cache-Control"))
	}
	return tok
}

func TestAPIIssue_TokenDecodesWithTheProjectSecretAndIsRecorded(t *testing.T) {
	t.Parallel()
	a := newAPIEnv(t)
	a.CreateProject(t, 1001)
	key := a.key(t, []string{store.ScopeIssue}, 1001)
	before := time.Now().Truncate(time.Second)

	tok := a.issue(t, key, "1001", map[string]any{"user_id": "alice", "ttl_seconds": 600})

	d, err := token04.Decode(tok.Token, []byte(webtest.TestSecret), token04.DecodeOptions{ExpectAppID: 1001})
	if err != nil {
		t.Fatalf("issued token does not decode with the project secret: %v", err)
	}
	if d.Claims.UserID != "alice" || d.Mode != token04.ModeGCM || d.Claims.Expire-d.Claims.CTime != 600 || d.Claims.Payload != "" {
		t.Fatalf("got claims %+v mode %v, want alice, gcm, 600 s, no payload", d.Claims, d.Mode)
	}
	if tok.AppID != 1001 || tok.UserID != "alice" || tok.Mode != "gcm" || tok.IssuedAt.Before(before) ||
		tok.ExpiresAt.Sub(tok.IssuedAt) != 600*time.Second || tok.RoomID != nil || tok.Privileges != nil {
		t.Fatalf("got %+v", tok)
	}
	if sum := sha256.Sum256([]byte(tok.Token)); tok.Fingerprint != hex.EncodeToString(sum[:]) {
		t.Fatalf("got fingerprint %s, want the SHA-256 of the token", tok.Fingerprint)
	}
	if n := a.Count(t, `SELECT count(*) FROM issued_tokens WHERE id = $1 AND channel = 'api' AND issued_by_type = 'api_key'`, tok.ID); n != 1 {
		t.Fatalf("got %d records of the API-issued token, want 1", n)
	}
	if n := a.Count(t, `SELECT count(*) FROM audit_events WHERE action = 'token.issue' AND target_id = $1 AND actor_type = 'api_key'`, tok.ID); n != 1 {
		t.Fatalf("got %d token.issue events, want 1", n)
	}
}

func TestAPIIssue_RoomPrivilegesAndCBC(t *testing.T) {
	t.Parallel()
	a := newAPIEnv(t)
	a.CreateProject(t, 1001)
	key := a.key(t, []string{store.ScopeIssue}, 1001)

	tok := a.issue(t, key, "1001", map[string]any{"user_id": "bob", "room_id": "room-7", "privileges": []string{"login", "publish"},
		"stream_ids": []string{"s1", "s2"}, "mode": "cbc"})

	d, err := token04.Decode(tok.Token, []byte(webtest.TestSecret), token04.DecodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := token04.ParsePrivilege(d.Claims.Payload)
	if err != nil || d.Mode != token04.ModeCBC || p.RoomID != "room-7" || !p.Login || !p.Publish || !slices.Equal(p.StreamIDs, []string{"s1", "s2"}) {
		t.Fatalf("got mode %v privilege %+v (%v)", d.Mode, p, err)
	}
	if d.Claims.Expire-d.Claims.CTime != 3600 {
		t.Fatalf("got lifetime %d, want the project's default 3600", d.Claims.Expire-d.Claims.CTime)
	}
	if tok.RoomID == nil || *tok.RoomID != "room-7" || !slices.Equal(tok.Privileges, []string{"login", "publish"}) || tok.Mode != "cbc" {
		t.Fatalf("got %+v", tok)
	}
}

func TestAPIIssue_CountsTheIssueInMetrics(t *testing.T) {
	t.Parallel()
	a := newAPIEnv(t, func(c *web.Config) { c.MetricsToken = "metrics-secret" })
	a.CreateProject(t, 1001)
	key := a.key(t, []string{store.ScopeIssue}, 1001)
	a.issue(t, key, "1001", map[string]any{"user_id": "alice"})

	req, _ := http.NewRequest(http.MethodGet, a.URL+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer metrics-secret")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	for _, want := range []string{
		`console_tokens_issued_total{app_id="1001",channel="api"} 1`,
		`console_http_requests_total{method="POST",route="POST /api/v1/projects/{appId}/tokens",status="201"} 1`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func TestAPIIssue_DisabledProjectIs409(t *testing.T) {
	t.Parallel()
	a := newAPIEnv(t)
	a.CreateProject(t, 1001)
	key := a.key(t, []string{store.ScopeIssue}, 1001)
	if err := a.Store.SetProjectDisabled(t.Context(), 1001, true, webtest.AdminActor, store.Origin{}); err != nil {
		t.Fatal(err)
	}
	a.post(t, "/api/v1/projects/1001/tokens", key, map[string]any{"user_id": "alice"}).wantProblem(t, http.StatusConflict, "project-disabled")
	if n := a.Count(t, `SELECT count(*) FROM issued_tokens`); n != 0 {
		t.Fatalf("got %d token records, want none", n)
	}
}

func TestAPIIssue_PolicyViolationsAre422WithFieldErrors(t *testing.T) {
	t.Parallel()
	a := newAPIEnv(t)
	a.CreateProject(t, 1001)
	key := a.key(t, []string{store.ScopeIssue}, 1001)
	for _, tc := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"user_id": "a", "ttl_seconds": 24*3600 + 1}, "ttl_seconds"},
		{map[string]any{"user_id": strings.Repeat("u", 65)}, "user_id"},
		{map[string]any{"user_id": ""}, "user_id"},
		{map[string]any{"user_id": "a", "privileges": []string{"admin"}}, "privileges"},
		{map[string]any{"user_id": "a", "stream_ids": make([]string, 21)}, "stream_ids"},
	} {
		p := a.post(t, "/api/v1/projects/1001/tokens", key, tc.body).wantProblem(t, http.StatusUnprocessableEntity, "validation")
		if p.Errors[tc.field] == "" {
			t.Errorf("%v: got errors %v, want one for %s", tc.body, p.Errors, tc.field)
		}
	}
}
