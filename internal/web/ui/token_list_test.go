package ui_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/web/webtest"
	"github.com/zegocloud-console/console/internal/zego/zegotest"
)

func TestTokensPage_ListsFiltersAndRevokesOne(t *testing.T) {
	t.Parallel()
	e := webtest.NewEnv(t)
	e.CreateProject(t, 1001)
	keep := e.IssueFor(t, 1001, "alice")
	gone := e.IssueFor(t, 1001, "bob", func(r *store.IssueRequest) { r.RoomID = "lobby" })
	c := e.SignIn(t, "olivia", store.RoleOperator)

	status, body := e.Get(t, c, "/tokens")
	if status != http.StatusOK {
		t.Fatalf("GET /tokens: got %d, want 200", status)
	}
	requireInBody(t, body, `data-testid="token-row-`+keep.Record.ID+`"`, `data-testid="token-row-`+gone.Record.ID+`"`,
		`data-testid="revoke-`+gone.Record.ID+`"`, `data-testid="revoke-reason-`+gone.Record.ID+`"`,
		"introspection endpoint", "ZEGO itself checks only", "rotate its", `data-testid="revoke-user-form"`, `data-testid="revoke-pasted-form"`)
	requireNotInBody(t, "GET /tokens", body, keep.Token, gone.Token)

	_, body = e.Get(t, c, "/tokens?room=lobby")
	if !strings.Contains(body, gone.Record.ID) || strings.Contains(body, keep.Record.ID) {
		t.Fatalf("room filter: want only bob's token:\n%s", body)
	}

	res, _ := e.Post(t, c, "/projects/1001/tokens/"+gone.Record.ID+"/revoke", url.Values{"reason": {"left the company"}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/tokens?notice=token-revoked" {
		t.Fatalf("revoke: got %d to %q, want 303 to /tokens?notice=token-revoked", res.StatusCode, res.Header.Get("Location"))
	}
	_, body = e.Get(t, c, "/tokens?state=revoked")
	requireInBody(t, body, `data-testid="token-row-`+gone.Record.ID+`" data-state="revoked"`, "left the company")
	requireNotInBody(t, "the revoked list", body, keep.Record.ID, `data-testid="revoke-`+gone.Record.ID+`"`)
	if n := e.Count(t, `SELECT count(*) FROM audit_events WHERE action = 'token.revoke' AND target_id = $1 AND actor_name = 'olivia'`, gone.Record.ID); n != 1 {
		t.Fatalf("token.revoke events: got %d, want 1", n)
	}
	_, body = e.Get(t, c, "/tokens?state=active")
	requireInBody(t, body, `data-testid="token-row-`+keep.Record.ID+`" data-state="active"`)

	res, _ = e.Post(t, c, "/projects/1001/tokens/00000000-0000-4000-8000-000000000000/revoke", url.Values{})
	if res.StatusCode != http.StatusNotFound {
		t.Fatalf("revoke an unknown id: got %d, want 404", res.StatusCode)
	}
	res, body = e.Post(t, c, "/projects/1001/tokens/"+keep.Record.ID+"/revoke", url.Values{"reason": {strings.Repeat("x", 501)}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "at most 500 characters") {
		t.Fatalf("revoke with a long reason: got %d, want 422 naming the limit", res.StatusCode)
	}
}

func TestTokensPage_RevokesEveryActiveTokenOfAUser(t *testing.T) {
	t.Parallel()
	e := webtest.NewEnv(t)
	e.CreateProject(t, 1001)
	e.CreateProject(t, 1002)
	for range 3 {
		e.IssueFor(t, 1001, "carol")
	}
	other := e.IssueFor(t, 1002, "carol")
	dave := e.IssueFor(t, 1001, "dave")
	c := e.SignIn(t, "olivia", store.RoleOperator)

	res, _ := e.Post(t, c, "/tokens/revoke-user", url.Values{"app_id": {"1001"}, "user_id": {"carol"}, "reason": {"lost phone"}})
	if res.StatusCode != http.StatusSeeOther || !strings.Contains(res.Header.Get("Location"), "notice=tokens-revoked") {
		t.Fatalf("revoke-user: got %d to %q, want 303 with notice=tokens-revoked", res.StatusCode, res.Header.Get("Location"))
	}
	if n := e.Count(t, `SELECT count(*) FROM issued_tokens WHERE app_id = 1001 AND user_id = 'carol' AND revoked_at IS NOT NULL`); n != 3 {
		t.Fatalf("carol's revoked tokens in 1001: got %d, want 3", n)
	}
	if n := e.Count(t, `SELECT count(*) FROM issued_tokens WHERE id IN ($1, $2) AND revoked_at IS NULL`, other.Record.ID, dave.Record.ID); n != 2 {
		t.Fatalf("tokens of other users or projects left active: got %d, want 2", n)
	}
	if n := e.Count(t, `SELECT count(*) FROM audit_events WHERE action = 'token.revoke_user' AND details->>'revoked' = '3'`); n != 1 {
		t.Fatalf("token.revoke_user events: got %d, want 1", n)
	}
	res, _ = e.Post(t, c, "/tokens/revoke-user", url.Values{"app_id": {"1001"}, "user_id": {"carol"}})
	if !strings.Contains(res.Header.Get("Location"), "notice=no-tokens-revoked") {
		t.Fatalf("second revoke-user: got Location %q, want notice=no-tokens-revoked", res.Header.Get("Location"))
	}

	for _, tt := range []struct {
		name   string
		form   url.Values
		status int
		want   string
	}{
		{"no user", url.Values{"app_id": {"1001"}}, http.StatusUnprocessableEntity, `data-testid="error-user_id"`},
		{"no project", url.Values{"user_id": {"carol"}}, http.StatusUnprocessableEntity, `data-testid="error-app_id"`},
		{"unknown project", url.Values{"app_id": {"4242"}, "user_id": {"carol"}}, http.StatusNotFound, "there is no such project"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res, body := e.Post(t, c, "/tokens/revoke-user", tt.form)
			if res.StatusCode != tt.status || !strings.Contains(body, tt.want) {
				t.Fatalf("got %d, want %d with %q:\n%s", res.StatusCode, tt.status, tt.want, body)
			}
		})
	}
}

func TestTokensPage_RevokesAPastedToken(t *testing.T) {
	t.Parallel()
	e := webtest.NewEnv(t)
	e.CreateProject(t, 1001)
	it := e.IssueFor(t, 1001, "erin")
	c := e.SignIn(t, "olivia", store.RoleOperator)

	// Pasted with a line break in the middle, as copying from a chat does.
	pasted := it.Token[:30] + "\n" + it.Token[30:] + "\n"
	res, _ := e.Post(t, c, "/tokens/revoke-pasted", url.Values{"token": {pasted}, "reason": {"leaked"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoke-pasted: got %d, want 303", res.StatusCode)
	}
	if n := e.Count(t, `SELECT count(*) FROM issued_tokens WHERE id = $1 AND revoked_at IS NOT NULL AND revoke_reason = 'leaked'`, it.Record.ID); n != 1 {
		t.Fatalf("revoked record: got %d, want 1", n)
	}

	unknown := it.Token[:len(it.Token)-4] + "AAA="
	res, body := e.Post(t, c, "/tokens/revoke-pasted", url.Values{"token": {unknown}})
	if res.StatusCode != http.StatusNotFound {
		t.Fatalf("revoke-pasted of an unknown token: got %d, want 404", res.StatusCode)
	}
	requireInBody(t, body, "This token was not issued here")
	requireNotInBody(t, "the refused revoke-pasted page", body, unknown, it.Token)
	requireNotInBody(t, "the server log", e.Logs.String(), it.Token, unknown)
}

func TestTokensPage_AuditorSeesNoRevokeForms(t *testing.T) {
	t.Parallel()
	e := webtest.NewEnv(t)
	e.CreateProject(t, 1001)
	it := e.IssueFor(t, 1001, "frank")
	c := e.SignIn(t, "audrey", store.RoleAuditor)
	_, body := e.Get(t, c, "/tokens")
	requireInBody(t, body, `data-testid="token-row-`+it.Record.ID+`"`)
	requireNotInBody(t, "the auditor's token list", body, `data-testid="revoke-`+it.Record.ID+`"`, "revoke-user-form", "revoke-pasted-form")
	res, _ := e.Post(t, c, "/projects/1001/tokens/"+it.Record.ID+"/revoke", url.Values{})
	if res.StatusCode != http.StatusForbidden {
		t.Fatalf("auditor revoke: got %d, want 403", res.StatusCode)
	}
}

var tokenRowRe = regexp.MustCompile(`data-testid="token-row-([0-9a-f-]{36})"`)
var tokensNextRe = regexp.MustCompile(`href="([^"]+)"[^>]*data-testid="tokens-next"`)

func TestTokensPage_PagesWithoutDuplicatesAndRefusesBadParameters(t *testing.T) {
	t.Parallel()
	e := webtest.NewEnv(t)
	e.CreateProject(t, 1001)
	for range 57 {
		e.IssueFor(t, 1001, "gina")
	}
	c := e.SignIn(t, "audrey", store.RoleAuditor)
	seen := map[string]bool{}
	path, pages := "/tokens?user=gina", 0
	for path != "" {
		status, body := e.Get(t, c, path)
		if status != http.StatusOK {
			t.Fatalf("GET %s: got %d, want 200", path, status)
		}
		pages++
		for _, m := range tokenRowRe.FindAllStringSubmatch(body, -1) {
			if seen[m[1]] {
				t.Fatalf("token %s listed twice", m[1])
			}
			seen[m[1]] = true
		}
		path = ""
		if m := tokensNextRe.FindStringSubmatch(body); m != nil {
			path = strings.ReplaceAll(m[1], "&amp;", "&")
			requireInBody(t, path, "user=gina", "before=")
		}
	}
	if len(seen) != 57 || pages != 2 {
		t.Fatalf("got %d tokens on %d pages, want 57 on 2", len(seen), pages)
	}

	for _, tt := range []struct{ query, want string }{
		{"state=forever", "state: must be active, expired or revoked"},
		{"before=not-an-id", "before: is not a token id"},
		{"app_id=x", "project: want a ZEGO AppID"},
	} {
		status, body := e.Get(t, c, "/tokens?"+tt.query)
		if status != http.StatusBadRequest || !strings.Contains(body, tt.want) {
			t.Fatalf("GET /tokens?%s: got %d, want 400 with %q", tt.query, status, tt.want)
		}
	}
}

// A revocation that fails says so in its own words: the page must not claim
// that "nothing was issued" when the operator asked to revoke.
func TestTokensPage_AFailedRevocationSaysTheTokenWasNotRevoked(t *testing.T) {
	t.Parallel()
	e := webtest.NewEnv(t)
	e.CreateProject(t, 1001)
	it := e.IssueFor(t, 1001, "carol")
	c := e.SignIn(t, "olivia", store.RoleOperator)
	e.ExecAsOwner(t, `
		CREATE FUNCTION refuse_revocations() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN RAISE EXCEPTION 'revocations refused for this test'; END $$;
		CREATE TRIGGER refuse_revocations BEFORE UPDATE ON issued_tokens FOR EACH ROW EXECUTE FUNCTION refuse_revocations();`)
	res, body := e.Post(t, c, "/projects/1001/tokens/"+it.Record.ID+"/revoke", url.Values{"reason": {"left the company"}})
	if res.StatusCode != http.StatusInternalServerError {
		t.Fatalf("got %d, want 500:\n%s", res.StatusCode, body)
	}
	requireInBody(t, body, "was not revoked")
	requireNotInBody(t, "the failed revocation page", body, "issued")
}

func TestTokensPage_ARevokedTokenShowsItsKickAtZEGO(t *testing.T) {
	t.Parallel()
	e := webtest.NewEnv(t)
	if _, err := e.Store.CreateProject(t.Context(), store.ProjectInput{Name: "Kicks", AppID: 1001, Environment: "test",
		DefaultTTL: time.Hour, MaxTTL: time.Hour, KickOnRevoke: true}, []byte(webtest.TestSecret), webtest.AdminActor, store.Origin{}); err != nil {
		t.Fatal(err)
	}
	tok := e.IssueFor(t, 1001, "bob", func(r *store.IssueRequest) { r.RoomID = "lobby" })
	c := e.SignIn(t, "olivia", store.RoleOperator)
	res, _ := e.Post(t, c, "/projects/1001/tokens/"+tok.Record.ID+"/revoke", url.Values{})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoke: got %d, want 303", res.StatusCode)
	}
	_, body := e.Get(t, c, "/tokens")
	requireInBody(t, body, `data-testid="token-kick-`+tok.Record.ID+`">kick queued`, "revocation feed")

	fake := zegotest.New(t, map[uint32]string{1001: webtest.TestSecret})
	e.RunKicker(t, fake.URL)
	fake.WaitFor(30*time.Second, "the kick", func(calls []zegotest.Call) bool { return len(calls) == 1 })
	deadline, tick := time.Now().Add(30*time.Second), time.NewTicker(20*time.Millisecond)
	defer tick.Stop()
	for !strings.Contains(body, `data-testid="token-kick-`+tok.Record.ID+`">kick done`) {
		if time.Now().After(deadline) {
			t.Fatalf("the tokens page never showed the kick done")
		}
		<-tick.C
		_, body = e.Get(t, c, "/tokens")
	}
	requireInBody(t, body, `RTC room &#34;lobby&#34;: done after 1 attempt(s), Code 0 &#34;success&#34;, RequestId `+fake.Calls()[0].RequestID)
}
