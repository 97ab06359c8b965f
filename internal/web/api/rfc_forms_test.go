package api_test

import (
	"net/http"
	"net/url"
	"testing"
)

func TestIntrospection_AnRFC7662ClientSendsAFormAndReadsTheStandardNames(t *testing.T) {
	t.Parallel()
	a := newAPIEnv(t)
	a.CreateProject(t, 1001)
	key := a.key(t, allAPIScopes, 1001)
	tok := a.issue(t, key, "1001", map[string]any{"user_id": "alice", "privileges": []string{"login", "publish"}})
	form := func(v url.Values) []byte { return []byte(v.Encode()) }
	const formType = "application/x-www-form-urlencoded"

	res := a.call(t, http.MethodPost, "/api/v1/tokens/introspect", key, formType, form(url.Values{"token": {tok.Token}, "token_type_hint": {"access_token"}, "client_assertion": {"ignored"}}))
	var in struct {
		Active   bool   `json:"active"`
		JTI      string `json:"jti"`
		ClientID string `json:"client_id"`
		Scope    string `json:"scope"`
		Sub      string `json:"sub"`
	}
	res.decode(t, &in)
	if res.status != http.StatusOK || !in.Active || in.JTI != tok.ID || in.ClientID != "1001" || in.Scope != "login publish" || in.Sub != "alice" {
		t.Fatalf("got %d %s, want active with jti %s, client_id 1001, scope \"login publish\"", res.status, res.body, tok.ID)
	}

	res = a.call(t, http.MethodPost, "/api/v1/tokens/revoke", key, formType, form(url.Values{"token": {tok.Token}, "token_type_hint": {"access_token"}}))
	if res.status != http.StatusOK || string(res.body) != "{\"revoked\":true}\n" {
		t.Fatalf("revoke by form: got %d %s, want revoked", res.status, res.body)
	}

	res = a.call(t, http.MethodPost, "/api/v1/tokens/introspect?inactive=bare", key, formType, form(url.Values{"token": {tok.Token}}))
	if res.status != http.StatusOK || string(res.body) != "{\"active\":false}\n" {
		t.Fatalf("inactive=bare: got %d %s, want the bare {\"active\":false} of RFC 7662", res.status, res.body)
	}
	res = a.call(t, http.MethodPost, "/api/v1/tokens/introspect", key, formType, form(url.Values{"token": {tok.Token}}))
	if res.status != http.StatusOK || !jsonHas(t, res, "reason", "revoked") {
		t.Fatalf("by default: got %s, want the reason revoked", res.body)
	}

	a.call(t, http.MethodPost, "/api/v1/tokens/introspect", key, formType, []byte("token=a&token=b")).wantProblem(t, http.StatusBadRequest, "malformed-json")
	a.call(t, http.MethodPost, "/api/v1/tokens/introspect?inactive=maybe", key, formType, form(url.Values{"token": {tok.Token}})).wantProblem(t, http.StatusBadRequest, "bad-filter")
	a.call(t, http.MethodPost, "/api/v1/tokens/introspect", key, formType, []byte("")).wantProblem(t, http.StatusUnprocessableEntity, "validation")
	if n := a.Count(t, `SELECT count(*) FROM audit_events WHERE action = 'token.introspect'`); n != 3 {
		t.Fatalf("got %d token.introspect events, want 3", n)
	}
}

// jsonHas tells whether the JSON body has field equal to want.
func jsonHas(t *testing.T, res apiResponse, field, want string) bool {
	t.Helper()
	var m map[string]any
	res.decode(t, &m)
	return m[field] == want
}
