package ui_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"sync/atomic"
	"testing"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/web/webtest"
)

var sinkSecretRe = regexp.MustCompile(`data-testid="sink-secret">(whsec_[A-Za-z0-9+/=]+)<`)

func TestSinksPage_AdminAddsAWebhookSeesTheSecretOnceAndDrivesItFromTheAuditPage(t *testing.T) {
	t.Parallel()
	e := webtest.NewEnv(t)
	admin := e.SignIn(t, "root", store.RoleAdmin)
	var verifier atomic.Pointer[standardwebhooks.Webhook]
	var verified atomic.Int64
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if wh := verifier.Load(); wh != nil && wh.Verify(body, r.Header) == nil && r.Header.Get("X-Splunk-Token") == "hec-9876" {
			verified.Add(1)
			return
		}
		w.WriteHeader(http.StatusUnauthorized)
	}))
	defer receiver.Close()

	form := url.Values{"name": {"splunk"}, "kind": {"webhook"}, "url": {receiver.URL + "/collector"},
		"headers": {"X-Splunk-Token: hec-9876"}, "outcomes": {"denied"}}
	res, body := e.Post(t, admin, "/audit/sinks", form)
	expectStatus(t, "loopback without the switch", res.StatusCode, http.StatusUnprocessableEntity, body)
	expectIn(t, "loopback without the switch", body, "allow private ranges")
	form.Set("allow_private", "on")
	res, body = e.Post(t, admin, "/audit/sinks", form)
	expectStatus(t, "add a webhook sink", res.StatusCode, http.StatusOK, body)
	m := sinkSecretRe.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("the new sink's page shows no whsec_ secret:\n%.2000s", body)
	}
	wh, err := standardwebhooks.NewWebhook(m[1])
	if err != nil {
		t.Fatal(err)
	}
	verifier.Store(wh)

	_, page := e.Get(t, admin, "/audit/sinks")
	expectIn(t, "sinks page", page, "splunk", "/collector", "outcomes denied", `data-testid="sink-state">active<`)
	expectNotIn(t, "sinks page", page, "hec-9876", m[1])
	_, audit := e.Get(t, admin, "/audit")
	expectIn(t, "audit page", audit, `data-testid="audit-sinks"`, `data-testid="sink-lag"`, `data-testid="sink-test-1"`, `data-testid="sink-replay-1"`)
	for _, role := range []string{store.RoleOperator, store.RoleAuditor} {
		_, other := e.Get(t, e.SignIn(t, role+"-user", role), "/audit")
		expectNotIn(t, role+"'s audit page", other, `data-testid="audit-sinks"`)
	}

	res, body = e.Post(t, admin, "/audit/sinks/1/test", nil)
	expectStatus(t, "test event", res.StatusCode, http.StatusOK, body)
	expectIn(t, "test event", body, "took the test event")
	if verified.Load() != 1 {
		t.Errorf("the receiver verified %d requests, want the test event signed and with its header", verified.Load())
	}
	res, body = e.Post(t, admin, "/audit/sinks/1/pause", url.Values{"back": {"audit"}})
	expectRedirect(t, "pause", res, body, "/audit?notice=sink-paused")
	res, body = e.Post(t, admin, "/audit/sinks/1/replay", url.Values{"from_seq": {"1"}})
	expectRedirect(t, "replay", res, body, "/audit/sinks?notice=sink-replayed")
	_, page = e.Get(t, admin, "/audit/sinks")
	expectIn(t, "after pause and replay", page, `data-testid="sink-state">paused<`, `data-testid="sink-cursor">0<`)
	res, body = e.Post(t, admin, "/audit/sinks/1/replay", url.Values{"from_seq": {"0"}})
	expectStatus(t, "replay from 0", res.StatusCode, http.StatusUnprocessableEntity, body)
	for _, action := range []string{"sink.create", "sink.test", "sink.pause", "sink.replay"} {
		if n := e.Events(t, action, store.OutcomeSuccess); n != 1 {
			t.Errorf("%s: got %d events, want 1", action, n)
		}
	}
}
