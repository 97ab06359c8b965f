package api_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/zegocloud-console/console/internal/store"
)

func TestSinksAPI_AdminsAutomationManagesSinksAuditedAndNeedsItsScope(t *testing.T) {
	t.Parallel()
	a := newAPIEnv(t)
	a.CreateProject(t, 1001)
	admin := a.key(t, []string{store.ScopeSinksAdmin}, 1001)
	reader := a.key(t, []string{store.ScopeAuditRead}, 1001)
	var verifier atomic.Pointer[standardwebhooks.Webhook]
	var verified atomic.Int64
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if wh := verifier.Load(); wh != nil && wh.Verify(body, r.Header) == nil && r.Header.Get("Authorization") == "Splunk hec-5678" {
			verified.Add(1)
			w.WriteHeader(http.StatusOK)
			return
		}
		w.WriteHeader(http.StatusUnauthorized)
	}))
	defer receiver.Close()
	a.remember("hec-5678")

	body := map[string]any{"name": "splunk", "kind": "webhook", "url": receiver.URL + "/services/collector/raw",
		"headers": map[string]string{"Authorization": "Splunk hec-5678"}, "allow_private": true,
		"filter": map[string]any{"outcomes": []string{"denied"}}}
	a.post(t, "/api/v1/sinks", reader, body).wantProblem(t, http.StatusForbidden, "forbidden")
	if n := len(a.events(t, "authz.denied")); n == 0 {
		t.Error("the refused sink creation was not audited")
	}
	res := a.post(t, "/api/v1/sinks", admin, body)
	if res.status != http.StatusCreated {
		t.Fatalf("create: got %d %s", res.status, res.body)
	}
	var created struct {
		Sink   store.Sink `json:"sink"`
		Secret string     `json:"secret"`
	}
	res.decode(t, &created)
	a.remember(created.Secret)
	wh, err := standardwebhooks.NewWebhook(created.Secret)
	if err != nil {
		t.Fatal(err)
	}
	verifier.Store(wh)

	list := a.get(t, "/api/v1/sinks", admin)
	if strings.Contains(string(list.body), "hec-5678") || strings.Contains(string(list.body), "whsec_") || !strings.Contains(string(list.body), `"Authorization"`) {
		t.Errorf("list shows a secret or lacks the header name: %s", list.body)
	}
	id := "/api/v1/sinks/" + strconv.FormatInt(created.Sink.ID, 10)
	var outcome struct {
		Delivered bool   `json:"delivered"`
		Error     string `json:"error"`
	}
	a.post(t, id+"/test", admin, nil).decode(t, &outcome)
	if !outcome.Delivered || verified.Load() != 1 {
		t.Errorf("test event: got %+v with %d verified requests, want delivered and verified", outcome, verified.Load())
	}
	var k store.Sink
	a.post(t, id+"/pause", admin, nil).decode(t, &k)
	if k.State != store.SinkPaused {
		t.Errorf("pause: got state %s", k.State)
	}
	a.post(t, id+"/resume", admin, nil).decode(t, &k)
	a.post(t, id+"/replay", admin, map[string]any{"from_seq": 1}).decode(t, &k)
	if k.State != store.SinkActive || k.CursorSeq != 0 {
		t.Errorf("resume and replay from 1: got state %s cursor %d, want active and 0", k.State, k.CursorSeq)
	}
	a.post(t, id+"/replay", admin, map[string]any{"from_seq": 0}).wantProblem(t, http.StatusUnprocessableEntity, "validation")
	var rotated struct {
		Secret string `json:"secret"`
	}
	a.post(t, id+"/rotate-secret", admin, nil).decode(t, &rotated)
	a.remember(rotated.Secret)
	if !strings.HasPrefix(rotated.Secret, "whsec_") || rotated.Secret == created.Secret {
		t.Errorf("rotate: got %q, want a new whsec_ secret", rotated.Secret)
	}
	if res := a.call(t, http.MethodDelete, id, admin, "", nil); res.status != http.StatusNoContent {
		t.Errorf("delete: got %d %s", res.status, res.body)
	}
	a.get(t, id, admin).wantProblem(t, http.StatusNotFound, "not-found")
	a.get(t, "/api/v1/sinks/abc", admin).wantProblem(t, http.StatusNotFound, "not-found")
	p := a.post(t, "/api/v1/sinks", admin, map[string]any{"name": "meta", "kind": "webhook", "url": "http://169.254.169.254/latest/meta-data",
		"allow_private": true}).wantProblem(t, http.StatusUnprocessableEntity, "validation")
	if !strings.Contains(p.Errors["url"], "metadata") {
		t.Errorf("got errors %v, want the metadata address named", p.Errors)
	}
	var actions []string
	for _, action := range []string{"sink.create", "sink.test", "sink.pause", "sink.resume", "sink.replay", "sink.secret_rotate", "sink.delete"} {
		if evs := a.events(t, action); len(evs) != 1 || evs[0].ActorType != store.ActorAPIKey {
			actions = append(actions, action)
		}
	}
	if len(actions) > 0 {
		t.Errorf("not audited once as the API key: %v", actions)
	}
}
