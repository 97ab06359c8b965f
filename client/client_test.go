package client_test

import (
	"bytes"
	"context"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zegocloud-console/console/client"
	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/web"
	"github.com/zegocloud-console/console/internal/web/webtest"
	"github.com/zegocloud-console/console/internal/zego/zegotest"
)

var allScopes = []string{store.ScopeIssue, store.ScopeRevoke, store.ScopeIntrospect, store.ScopeAuditRead, store.ScopeRevocationsRead}

// newConsole starts a console with project 1001 and returns it with an API
// key that has every scope on that project.
func newConsole(t *testing.T, mods ...func(*web.Config)) (*webtest.Env, string) {
	t.Helper()
	e := webtest.NewEnv(t, mods...)
	e.CreateProject(t, 1001)
	return e, e.APIKey(t, allScopes, 1001)
}

// statusRecorder remembers the status of every answer a client got.
type statusRecorder struct {
	mu       sync.Mutex
	statuses []int
}

func (s *statusRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	res, err := http.DefaultTransport.RoundTrip(r)
	if err == nil {
		s.mu.Lock()
		s.statuses = append(s.statuses, res.StatusCode)
		s.mu.Unlock()
	}
	return res, err
}

func (s *statusRecorder) got() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.statuses)
}

func TestClient_EveryCallAgainstTheConsole(t *testing.T) {
	t.Parallel()
	e, key := newConsole(t)
	ctx := t.Context()
	c := client.New(e.URL+"/", key, client.WithUserAgent("billing-service"))

	projects, err := c.Projects(ctx)
	if err != nil || len(projects) != 1 || projects[0].AppID != 1001 || projects[0].ZegoRegion != "global" ||
		!slices.Equal(projects[0].ZegoServices, []string{"rtc"}) {
		t.Fatalf("Projects: got %+v, %v", projects, err)
	}
	tok, err := c.Issue(ctx, 1001, client.IssueRequest{UserID: "alice", TTL: 10 * time.Minute, RoomID: "room-1",
		Privileges: []string{"login"}, Mode: "cbc"})
	if err != nil || tok.Token == "" || tok.UserID != "alice" || tok.ExpiresAt.Sub(tok.IssuedAt) != 10*time.Minute ||
		tok.Mode != "cbc" || *tok.RoomID != "room-1" || !slices.Equal(tok.Privileges, []string{"login"}) || len(tok.Fingerprint) != 64 {
		t.Fatalf("Issue: got %+v, %v", tok, err)
	}
	rec, err := c.Token(ctx, 1001, tok.ID)
	if err != nil || rec.State != "active" || rec.Channel != "api" || rec.IssuedBy != "svc" || rec.Revoked {
		t.Fatalf("Token: got %+v, %v", rec, err)
	}
	in, err := c.Introspect(ctx, tok.Token)
	if err != nil || !in.Active || in.Sub != "alice" || in.AppID != 1001 || in.TokenID != tok.ID || !in.IssuedHere {
		t.Fatalf("Introspect: got %+v, %v", in, err)
	}
	rev, err := c.RevokeToken(ctx, 1001, tok.ID, "lost phone")
	if err != nil || !rev.Revoked || rev.RevokedBy != "svc" || rev.Reason != "lost phone" || rev.RevokedAt == nil || rev.Kick != "" {
		t.Fatalf("RevokeToken: got %+v, %v", rev, err)
	}
	second, _ := c.Issue(ctx, 1001, client.IssueRequest{UserID: "bob"})
	if v, err := c.RevokeTokenValue(ctx, second.Token, ""); err != nil || !v.Revoked {
		t.Fatalf("RevokeTokenValue: got %+v, %v", v, err)
	}
	if v, err := c.RevokeTokenValue(ctx, "04AAAAnotatoken", ""); err != nil || v.Revoked {
		t.Fatalf("RevokeTokenValue of an unknown token: got %+v, %v; want not revoked", v, err)
	}
	for range 2 {
		_, _ = c.Issue(ctx, 1001, client.IssueRequest{UserID: "carol"})
	}
	if u, err := c.RevokeUser(ctx, 1001, "carol", "left"); err != nil || u.Revoked != 2 || u.UserID != "carol" || u.AppID != 1001 {
		t.Fatalf("RevokeUser: got %+v, %v", u, err)
	}

	page, err := c.Revocations(ctx, 0, 0)
	if err != nil || page.Cursor != 4 || len(page.Revocations) != 4 || page.Revocations[0].TokenID != tok.ID ||
		page.Revocations[0].Fingerprint != tok.Fingerprint || page.Revocations[0].RoomID != "room-1" || page.Revocations[3].UserID != "carol" {
		t.Fatalf("Revocations: got %+v, %v", page, err)
	}
	snap, err := c.RevocationSnapshot(ctx)
	if err != nil || snap.Seq != 4 || len(snap.Revocations) != 4 {
		t.Fatalf("RevocationSnapshot: got %+v, %v", snap, err)
	}

	var paged []int64
	for cursor := ""; ; {
		p, err := c.Audit(ctx, client.AuditQuery{AppID: 1001, Action: "token.*"}, cursor, 2)
		if err != nil {
			t.Fatalf("Audit: %v", err)
		}
		for _, ev := range p.Events {
			paged = append(paged, ev.ID)
		}
		if cursor = p.Next; cursor == "" {
			break
		}
	}
	var streamed []int64
	var introspected bool
	if err := c.ExportAudit(ctx, client.AuditQuery{AppID: 1001, Action: "token.*"}, func(ev client.AuditEvent) error {
		streamed = append(streamed, ev.ID)
		introspected = introspected || (ev.Action == "token.introspect" && ev.UserAgent == "billing-service")
		return nil
	}); err != nil {
		t.Fatalf("ExportAudit: %v", err)
	}
	if len(paged) != 8 || !slices.Equal(paged, streamed) || !introspected {
		t.Fatalf("audit: got %d events in pages and %d streamed (introspection by billing-service seen: %v); want the same 8: 4 issues, an introspection, 2 revocations and a user's",
			len(paged), len(streamed), introspected)
	}
	var csv bytes.Buffer
	if n, err := c.ExportAuditCSV(ctx, client.AuditQuery{Action: "token.issue"}, &csv); err != nil || n == 0 ||
		!strings.HasPrefix(csv.String(), "id,") || strings.Count(csv.String(), "\n") != 5 {
		t.Fatalf("ExportAuditCSV: got %d bytes, %v:\n%s", n, err, csv.String())
	}
}

func TestClient_ProblemsAreErrorsWithTheProblemsFields(t *testing.T) {
	t.Parallel()
	e, key := newConsole(t)
	e.CreateProject(t, 1002)
	ctx := t.Context()
	c := client.New(e.URL, key)

	_, err := c.Issue(ctx, 1001, client.IssueRequest{UserID: "", TTL: 48 * time.Hour})
	var pe *client.Error
	if !errorAs(err, &pe) || pe.Status != 422 || pe.Type != "urn:zego-console:problem:validation" || pe.Kind() != client.KindValidation ||
		pe.Errors["ttl_seconds"] == "" || pe.Errors["user_id"] == "" || pe.RequestID == "" || pe.Instance != "/api/v1/projects/1001/tokens" {
		t.Fatalf("validation: got %#v", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "422") || !strings.Contains(msg, "ttl_seconds: must not exceed") {
		t.Errorf("Error(): got %q, want the status and each field", msg)
	}
	for _, tc := range []struct {
		name string
		call func() error
		kind string
		code int
	}{
		{"unknown key", func() error { _, err := client.New(e.URL, "zc_00000000_nope").Projects(ctx); return err }, client.KindUnauthorized, 401},
		{"another project", func() error { _, err := c.Issue(ctx, 1002, client.IssueRequest{UserID: "a"}); return err }, client.KindForbidden, 403},
		{"unknown token", func() error {
			_, err := c.RevokeToken(ctx, 1001, "00000000-0000-4000-8000-000000000000", "")
			return err
		}, client.KindNotFound, 404},
		{"a cursor from the future", func() error { _, err := c.Revocations(ctx, 99, 0); return err }, client.KindCursorGone, 410},
		{"a key without the scope", func() error {
			_, err := client.New(e.URL, e.APIKey(t, []string{store.ScopeIssue}, 1001)).RevocationSnapshot(ctx)
			return err
		}, client.KindForbidden, 403},
	} {
		err := tc.call()
		if !client.IsKind(err, tc.kind) || !errorAs(err, &pe) || pe.Status != tc.code || pe.Detail == "" {
			t.Errorf("%s: got %#v, want a %d %s problem", tc.name, err, tc.code, tc.kind)
		}
	}
}

func errorAs(err error, target **client.Error) bool {
	e, ok := err.(*client.Error)
	if ok {
		*target = e
	}
	return ok
}

func TestClient_A429IsRetriedAfterTheWaitRetryAfterAsks(t *testing.T) {
	t.Parallel()
	e, key := newConsole(t, func(c *web.Config) { c.APIRate, c.APIBurst = 1, 1 })
	ctx := t.Context()
	rec := &statusRecorder{}
	var waits []time.Duration
	c := client.New(e.URL, key, client.WithHTTPClient(&http.Client{Transport: rec}))
	client.SetSleep(c, func(ctx context.Context, d time.Duration) error {
		waits = append(waits, d)
		return client.Sleep(ctx, d) // the console's bucket refills in real time
	})
	for _, user := range []string{"u1", "u2"} {
		if _, err := c.Issue(ctx, 1001, client.IssueRequest{UserID: user}); err != nil {
			t.Fatalf("issue for %s: %v", user, err)
		}
	}
	if got := rec.got(); !slices.Equal(got, []int{201, 429, 201}) || !slices.Equal(waits, []time.Duration{time.Second}) {
		t.Fatalf("got answers %v after waits %v; want 201, 429, 201 after the 1 s Retry-After asked for", got, waits)
	}

	impatient := client.New(e.URL, key, client.WithRetries(0))
	_, _ = impatient.Projects(ctx)
	_, err := impatient.Projects(ctx)
	var pe *client.Error
	if !errorAs(err, &pe) || pe.Status != 429 || pe.Kind() != client.KindRateLimited || pe.RetryAfter != time.Second {
		t.Fatalf("without retries: got %#v, want the 429 with its Retry-After", err)
	}
	capped := client.New(e.URL, key, client.WithMaxRetryWait(500*time.Millisecond))
	client.SetSleep(capped, func(context.Context, time.Duration) error {
		t.Error("a retry waited longer than WithMaxRetryWait allows")
		return nil
	})
	_, _ = capped.Projects(ctx)
	if _, err := capped.Projects(ctx); !client.IsKind(err, client.KindRateLimited) {
		t.Fatalf("Retry-After above the cap: got %v, want the 429 at once", err)
	}
}

func TestClient_A503IsRetriedWithBackoffThenSucceeds(t *testing.T) {
	t.Parallel()
	e, key := newConsole(t)
	// The database refuses the first two issues as a full disk would (503).
	e.ExecAsOwner(t, `CREATE SEQUENCE issue_failures`)
	e.ExecAsOwner(t, `CREATE FUNCTION fail_twice() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
		BEGIN IF nextval('issue_failures') <= 2 THEN RAISE EXCEPTION 'disk full' USING ERRCODE = '53100'; END IF; RETURN NEW; END $$`)
	e.ExecAsOwner(t, `CREATE TRIGGER fail_twice BEFORE INSERT ON issued_tokens FOR EACH ROW EXECUTE FUNCTION fail_twice()`)
	rec := &statusRecorder{}
	var waits []time.Duration
	c := client.New(e.URL, key, client.WithHTTPClient(&http.Client{Transport: rec}))
	client.SetSleep(c, func(_ context.Context, d time.Duration) error {
		waits = append(waits, d)
		return nil
	})
	tok, err := c.Issue(t.Context(), 1001, client.IssueRequest{UserID: "alice"})
	if err != nil || tok.Token == "" {
		t.Fatalf("got %v, want the token on the third attempt", err)
	}
	if got := rec.got(); !slices.Equal(got, []int{503, 503, 201}) || !slices.Equal(waits, []time.Duration{500 * time.Millisecond, time.Second}) {
		t.Fatalf("got answers %v after waits %v; want 503, 503, 201 after 0.5 s and 1 s", got, waits)
	}
	if n := e.Count(t, `SELECT count(*) FROM issued_tokens`); n != 1 {
		t.Fatalf("got %d token records, want the one issue that succeeded", n)
	}
}

// front is a stand-in load balancer: it sends requests to one console, or
// answers 502 when there is none.
type front struct {
	URL    string
	mu     sync.Mutex
	target *url.URL
}

func newFront(t *testing.T, target string) *front {
	t.Helper()
	f := &front{}
	f.switchTo(target)
	proxy := &httputil.ReverseProxy{ErrorLog: log.New(io.Discard, "", 0), Rewrite: func(r *httputil.ProxyRequest) {
		f.mu.Lock()
		to := f.target
		f.mu.Unlock()
		if to != nil {
			r.SetURL(to)
		}
	}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		up := f.target != nil
		f.mu.Unlock()
		if !up {
			http.Error(w, "no console behind the load balancer", http.StatusBadGateway)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	f.URL = srv.URL
	return f
}

// switchTo sends the next requests to target ("" for none).
func (f *front) switchTo(target string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.target = nil
	if target != "" {
		f.target, _ = url.Parse(target)
	}
}

func TestClient_TheTokenRecordFollowsItsKickAtZEGO(t *testing.T) {
	t.Parallel()
	e := webtest.NewEnv(t)
	if _, err := e.Store.CreateProject(t.Context(), store.ProjectInput{Name: "Kicks", AppID: 1001, Environment: "test",
		DefaultTTL: time.Hour, MaxTTL: time.Hour, KickOnRevoke: true, ZegoServices: []string{"zim"}},
		[]byte(webtest.TestSecret), webtest.AdminActor, store.Origin{}); err != nil {
		t.Fatal(err)
	}
	fake := zegotest.New(t, map[uint32]string{1001: webtest.TestSecret})
	e.RunKicker(t, fake.URL)
	ctx := t.Context()
	c := client.New(e.URL, e.APIKey(t, allScopes, 1001))
	tok, err := c.Issue(ctx, 1001, client.IssueRequest{UserID: "alice", RoomID: "room-1"})
	if err != nil {
		t.Fatal(err)
	}
	if rec, err := c.RevokeToken(ctx, 1001, tok.ID, ""); err != nil || rec.Kick != client.KickQueued {
		t.Fatalf("revoke: got %+v, %v; want the kick queued", rec, err)
	}
	var rec *client.TokenRecord
	waitUntil(t, 30*time.Second, "the kick done", func() bool {
		rec, err = c.Token(ctx, 1001, tok.ID)
		return err == nil && rec.Kick == client.KickDone
	})
	if len(rec.Kicks) != 1 || rec.Kicks[0].Service != "zim" || rec.Kicks[0].RoomID != "room-1" || rec.Kicks[0].Code == nil ||
		*rec.Kicks[0].Code != 0 || rec.Kicks[0].RequestID != fake.Calls()[0].RequestID {
		t.Fatalf("got kicks %+v, want the ZIM kick with ZEGO's answer", rec.Kicks)
	}
}
