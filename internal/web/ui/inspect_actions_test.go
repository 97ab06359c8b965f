package ui_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/web/webtest"
)

var expiryBadgeRe = regexp.MustCompile(`<span class="([^"]*expiry-status[^"]*)">([^<]*)</span>`)

func TestInspector_AnInactiveTokenGetsNoGreenValidBadge(t *testing.T) {
	t.Parallel()
	e := webtest.NewEnv(t)
	e.CreateProject(t, 1001)
	revoked := e.IssueFor(t, 1001, "ivan")
	if _, err := e.Store.RevokeToken(t.Context(), 1001, revoked.Record.ID, "test", webtest.OperatorActor, store.Origin{}); err != nil {
		t.Fatal(err)
	}
	c := e.SignIn(t, "audrey", store.RoleAuditor)
	res, body := e.Post(t, c, "/inspect", url.Values{"token": {revoked.Token}})
	expectStatus(t, "inspect a revoked token", res.StatusCode, http.StatusOK, body)
	requireInBody(t, body, `data-active="false"`)
	m := expiryBadgeRe.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no expiry badge in the result:\n%.3000s", body)
	}
	if strings.Contains(m[1], "state-active") || strings.Contains(m[2], "valid") {
		t.Errorf("a revoked token's expiry badge reads %q with classes %q; want no green \"valid\" badge", m[2], m[1])
	}
}

func TestInspector_ARevokerRevokesAnActiveResultAndLandsOnItsRecord(t *testing.T) {
	t.Parallel()
	e := webtest.NewEnv(t)
	e.CreateProject(t, 1001)
	it := e.IssueFor(t, 1001, "ivan")
	action := "/projects/1001/tokens/" + it.Record.ID + "/revoke"
	record := "/tokens?app_id=1001&amp;user=ivan#token-" + it.Record.ID

	_, body := e.Post(t, e.SignIn(t, "audrey", store.RoleAuditor), "/inspect", url.Values{"token": {it.Token}})
	requireInBody(t, body, `data-active="true"`, record)
	requireNotInBody(t, "the auditor's result", body, `data-testid="inspect-revoke"`)

	c := e.SignIn(t, "otto", store.RoleOperator)
	_, body = e.Post(t, c, "/inspect", url.Values{"token": {it.Token}})
	requireInBody(t, body, `data-testid="inspect-revoke"`, `action="`+action+`"`, record)
	res, body := e.Post(t, c, action, url.Values{"reason": {"seen in the inspector"}, "from": {"inspect"}})
	expectRedirect(t, "revoke from the inspector", res, body, "/tokens?app_id=1001&notice=token-revoked&user=ivan#token-"+it.Record.ID)
	if n := e.Count(t, `SELECT count(*) FROM issued_tokens WHERE id::text = $1 AND revoked_at IS NOT NULL AND revoke_reason = 'seen in the inspector'`, it.Record.ID); n != 1 {
		t.Errorf("the token is not revoked with its reason")
	}
	_, list := e.Get(t, c, "/tokens?app_id=1001&notice=token-revoked&user=ivan")
	requireInBody(t, list, `id="token-`+it.Record.ID+`"`, "Token revoked.")
}
