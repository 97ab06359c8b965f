package web_test

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/zegocloud-console/console/internal/pgtest"
	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/web"
)

// testSecret is the ServerSecret of projects made by env.createProject.
const testSecret = "0123456789abcdef0123456789abcdef"

// testPassword is the password of operators made by env.createOperator.
const testPassword = "correct horse battery staple"

// syncBuffer collects the server's JSON logs so tests can search them.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// env is a console on a fresh database behind a real HTTP server.
type env struct {
	st   *store.Store
	srv  *httptest.Server
	URL  string
	logs *syncBuffer
}

// newEnv starts a console server for t with its own migrated database.
func newEnv(t *testing.T, mods ...func(*web.Config)) *env {
	t.Helper()
	ctx := t.Context()
	keys, err := store.NewKeyring(bytes.Repeat([]byte{9}, 32))
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, pgtest.NewURL(t), keys)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	logs := &syncBuffer{}
	cfg := web.Config{SessionIdle: 30 * time.Minute, SessionMax: 12 * time.Hour, APIRate: 1000, APIBurst: 1000}
	for _, m := range mods {
		m(&cfg)
	}
	srv, err := web.New(ctx, st, slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})), cfg, prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	return &env{st: st, srv: hs, URL: hs.URL, logs: logs}
}

var adminActor = store.Actor{Type: store.ActorSystem, Name: "test-setup"}

// createOperator adds an operator with testPassword.
func (e *env) createOperator(t *testing.T, username, role string) store.Operator {
	t.Helper()
	op, err := e.st.CreateOperator(t.Context(), store.OperatorInput{Username: username, Role: role, Password: testPassword}, adminActor, store.Origin{})
	if err != nil {
		t.Fatalf("create operator %s: %v", username, err)
	}
	return op
}

// createProject adds a project (1h default, 24h max TTL, publish allowed).
func (e *env) createProject(t *testing.T, appID uint32) store.Project {
	t.Helper()
	p, err := e.st.CreateProject(t.Context(), store.ProjectInput{Name: "Project " + strings.Repeat("x", 1), AppID: appID, Environment: "test",
		DefaultTTL: time.Hour, MaxTTL: 24 * time.Hour, PublishAllowed: true}, []byte(testSecret), adminActor, store.Origin{})
	if err != nil {
		t.Fatalf("create project: %v", err)
	}
	return p
}

// apiKey creates an API key for the given projects and scopes.
func (e *env) apiKey(t *testing.T, scopes []string, appIDs ...uint32) string {
	t.Helper()
	raw, _, err := e.st.CreateAPIKey(t.Context(), store.APIKeyInput{Name: "svc", AppIDs: appIDs, Scopes: scopes}, adminActor, store.Origin{})
	if err != nil {
		t.Fatalf("create api key: %v", err)
	}
	return raw
}

// browser is an HTTP client with a cookie jar that does not follow redirects,
// so tests can check where a response sends the visitor.
func (e *env) browser(t *testing.T) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// signIn returns a browser signed in as a new operator with role.
func (e *env) signIn(t *testing.T, username, role string) *http.Client {
	t.Helper()
	e.createOperator(t, username, role)
	c := e.browser(t)
	res, err := c.PostForm(e.URL+"/login", url.Values{"username": {username}, "password": {testPassword}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in %s: got status %d, want 303", username, res.StatusCode)
	}
	return c
}

// get fetches path and returns status and body.
func (e *env) get(t *testing.T, c *http.Client, path string) (int, string) {
	t.Helper()
	res, err := c.Get(e.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// post submits a form and returns the response with its body read.
func (e *env) post(t *testing.T, c *http.Client, path string, form url.Values) (*http.Response, string) {
	t.Helper()
	res, err := c.PostForm(e.URL+path, form)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

// count runs a counting query on the test database.
func (e *env) count(t *testing.T, q string, args ...any) int {
	t.Helper()
	var n int
	if err := e.st.Pool().QueryRow(t.Context(), q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}
