package api_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/token04"
	"github.com/zegocloud-console/console/internal/web/webtest"
)

// introspection is the API's answer to an introspection.
type introspection struct {
	Active     bool     `json:"active"`
	Reason     string   `json:"reason"`
	AppID      uint32   `json:"app_id"`
	Sub        string   `json:"sub"`
	Iat        int64    `json:"iat"`
	Exp        int64    `json:"exp"`
	Mode       string   `json:"mode"`
	RoomID     *string  `json:"room_id"`
	Privileges []string `json:"privileges"`
	StreamIDs  []string `json:"stream_ids"`
	Revoked    bool     `json:"revoked"`
	TokenID    string   `json:"token_id"`
	IssuedHere bool     `json:"issued_here"`
}

func (a *apiEnv) introspect(t *testing.T, key, token string) introspection {
	t.Helper()
	res := a.post(t, "/api/v1/tokens/introspect", key, map[string]string{"token": token})
	if res.status != http.StatusOK {
		t.Fatalf("introspect: got %d (%s), want 200", res.status, res.body)
	}
	var in introspection
	res.decode(t, &in)
	return in
}

func TestAPIRevoke_ByIDThenIntrospectionSaysRevoked(t *testing.T) {
	t.Parallel()
	a := newAPIEnv(t)
	a.CreateProject(t, 1001)
	key := a.key(t, allAPIScopes, 1001)
	tok := a.issue(t, key, "1001", map[string]any{"user_id": "alice", "room_id": "r1"})

	in := a.introspect(t, key, tok.Token)
	if !in.Active || in.Revoked || in.Reason != "" || in.Sub != "alice" || in.AppID != 1001 || in.TokenID != tok.ID ||
		!in.IssuedHere || in.Mode != "gcm" || in.RoomID == nil || *in.RoomID != "r1" || len(in.Privileges) != 1 || in.Exp-in.Iat != 3600 {
		t.Fatalf("before revocation: got %+v", in)
	}

	res := a.post(t, "/api/v1/projects/1001/tokens/"+tok.ID+"/revoke", key, map[string]string{"reason": "lost phone"})
	var rev struct {
		ID        string    `json:"id"`
		Revoked   bool      `json:"revoked"`
		RevokedAt time.Time `json:"revoked_at"`
		RevokedBy string    `json:"revoked_by"`
		Reason    string    `json:"reason"`
	}
	res.decode(t, &rev)
	if res.status != http.StatusOK || rev.ID != tok.ID || !rev.Revoked || rev.RevokedAt.IsZero() || rev.RevokedBy != "svc" || rev.Reason != "lost phone" {
		t.Fatalf("revoke: got %d %+v", res.status, rev)
	}

	// The issue's Location names the record, which now says revoked.
	rec := a.get(t, "/api/v1/projects/1001/tokens/"+tok.ID, key)
	var got struct {
		ID, State, Reason string
		IssuedBy          string `json:"issued_by"`
		Revoked           bool
	}
	rec.decode(t, &got)
	if rec.status != http.StatusOK || got.ID != tok.ID || got.State != "revoked" || !got.Revoked || got.Reason != "lost phone" || got.IssuedBy != "svc" {
		t.Fatalf("GET token record: got %d %+v, want the revoked record", rec.status, got)
	}
	if res := a.get(t, "/api/v1/projects/1001/tokens/00000000-0000-4000-8000-000000000000", key); res.status != http.StatusNotFound {
		t.Fatalf("unknown token id: got %d, want 404", res.status)
	}

	in = a.introspect(t, key, tok.Token)
	if in.Active || !in.Revoked || in.Reason != store.ReasonRevoked || in.TokenID != tok.ID || in.RoomID != nil {
		t.Fatalf("after revocation: got %+v, want inactive, revoked, without room details", in)
	}

	// Twice is not an error, and the first revocation stands; an empty body is fine.
	again := a.call(t, "POST", "/api/v1/projects/1001/tokens/"+strings.ToUpper(tok.ID)+"/revoke", key, "", nil)
	var rev2 struct {
		RevokedAt time.Time `json:"revoked_at"`
		Reason    string    `json:"reason"`
	}
	again.decode(t, &rev2)
	if again.status != http.StatusOK || !rev2.RevokedAt.Equal(rev.RevokedAt) || rev2.Reason != "lost phone" {
		t.Fatalf("second revoke: got %d %+v, want 200 and the first revocation", again.status, rev2)
	}
	if n := a.Count(t, `SELECT count(*) FROM audit_events WHERE action = 'token.revoke' AND target_id = $1`, tok.ID); n != 2 {
		t.Fatalf("got %d token.revoke events, want 2 (both attempts)", n)
	}
	if n := a.Count(t, `SELECT count(*) FROM audit_events WHERE action = 'token.introspect'`); n != 2 {
		t.Fatalf("got %d token.introspect events, want 2", n)
	}
}

func TestAPIRevoke_AllTokensOfAUser(t *testing.T) {
	t.Parallel()
	a := newAPIEnv(t)
	a.CreateProject(t, 1001)
	key := a.key(t, allAPIScopes, 1001)
	a.issue(t, key, "1001", map[string]any{"user_id": "user/1"})
	a.issue(t, key, "1001", map[string]any{"user_id": "user/1"})
	other := a.issue(t, key, "1001", map[string]any{"user_id": "bob"})

	res := a.post(t, "/api/v1/projects/1001/users/user%2F1/revoke", key, map[string]string{"reason": "left"})
	var out struct {
		AppID   uint32 `json:"app_id"`
		UserID  string `json:"user_id"`
		Revoked int    `json:"revoked"`
	}
	res.decode(t, &out)
	if res.status != http.StatusOK || out.AppID != 1001 || out.UserID != "user/1" || out.Revoked != 2 {
		t.Fatalf("got %d %+v, want 2 tokens of user/1 revoked", res.status, out)
	}
	if in := a.introspect(t, key, other.Token); !in.Active {
		t.Fatalf("bob's token: got %+v, want still active", in)
	}
	res = a.call(t, "POST", "/api/v1/projects/1001/users/user%2F1/revoke", key, "", nil)
	res.decode(t, &out)
	if out.Revoked != 0 {
		t.Fatalf("second time: got %d revoked, want 0", out.Revoked)
	}
}

func TestAPIRevoke_ByValueLikeRFC7009(t *testing.T) {
	t.Parallel()
	a := newAPIEnv(t)
	a.CreateProject(t, 1001)
	a.CreateProject(t, 2002)
	keyA := a.key(t, allAPIScopes, 1001)
	keyB := a.key(t, allAPIScopes, 2002)
	tokA := a.issue(t, keyA, "1001", map[string]any{"user_id": "alice"})

	revoked := func(key, token string) bool {
		t.Helper()
		res := a.post(t, "/api/v1/tokens/revoke", key, map[string]string{"token": token})
		var out struct {
			Revoked *bool `json:"revoked"`
		}
		res.decode(t, &out)
		if res.status != http.StatusOK || out.Revoked == nil {
			t.Fatalf("got %d %s, want 200 {revoked: bool}", res.status, res.body)
		}
		return *out.Revoked
	}
	if revoked(keyA, "04bm90IGEgdG9rZW4=") {
		t.Fatal("an unknown token: got revoked true")
	}
	denials := a.Count(t, `SELECT count(*) FROM audit_events WHERE action = 'authz.denied' AND app_id = 1001`)
	if revoked(keyB, tokA.Token) {
		t.Fatal("another project's token: got revoked true")
	}
	if got := a.Count(t, `SELECT count(*) FROM audit_events WHERE action = 'authz.denied' AND app_id = 1001 AND token_fingerprint IS NOT NULL`); got != denials+1 {
		t.Fatalf("got %d new denials, want 1 for the foreign token", got-denials)
	}
	if in := a.introspect(t, keyA, tokA.Token); !in.Active {
		t.Fatalf("after a foreign key tried: got %+v, want still active", in)
	}
	// Revoking by value twice answers revoked both times.
	if first, second := revoked(keyA, tokA.Token), revoked(keyA, tokA.Token); !first || !second {
		t.Fatalf("own token: got revoked %v then %v, want true twice", first, second)
	}
	if in := a.introspect(t, keyA, tokA.Token); in.Active || !in.Revoked {
		t.Fatalf("after revocation: got %+v", in)
	}
}

func TestAPIIntrospect_SeesOnlyTheKeysProjects(t *testing.T) {
	t.Parallel()
	a := newAPIEnv(t)
	a.CreateProject(t, 1001)
	a.createProjectWithOtherSecret(t, 2002)
	keyA := a.key(t, allAPIScopes, 1001)
	keyB := a.key(t, allAPIScopes, 2002)
	tokA := a.issue(t, keyA, "1001", map[string]any{"user_id": "alice"})

	if in := a.introspect(t, keyB, tokA.Token); in.Active || in.Reason != store.ReasonUnknownSecret || in.IssuedHere || in.TokenID != "" || in.Sub != "" {
		t.Fatalf("foreign key: got %+v, want only inactive, unknown_secret", in)
	}
	if in := a.introspect(t, keyA, "garbage"); in.Active || in.Reason != store.ReasonMalformed {
		t.Fatalf("garbage: got %+v", in)
	}
	// A token made elsewhere with the project's secret is active but not issued here.
	ext, _, err := token04.Generate(token04.Params{AppID: 1001, UserID: "carol", Secret: []byte(webtest.TestSecret), EffectiveSeconds: 60})
	if err != nil {
		t.Fatal(err)
	}
	a.remember(ext)
	if in := a.introspect(t, keyA, ext); !in.Active || in.IssuedHere || in.Sub != "carol" || in.TokenID != "" {
		t.Fatalf("external token: got %+v", in)
	}
	old, _, err := token04.Generate(token04.Params{AppID: 1001, UserID: "dave", Secret: []byte(webtest.TestSecret), EffectiveSeconds: 60,
		Now: time.Now().Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	a.remember(old)
	if in := a.introspect(t, keyA, old); in.Active || in.Reason != store.ReasonExpired || in.Sub != "dave" {
		t.Fatalf("expired token: got %+v, want inactive, expired, with its claims", in)
	}
	a.post(t, "/api/v1/tokens/introspect", keyA, map[string]string{"token": ""}).wantProblem(t, http.StatusUnprocessableEntity, "validation")
}
