// Package webtest starts a console (shared server, UI and API) on a fresh
// database behind a real HTTP server, with the helpers the UI and the API
// tests both use.
package webtest

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/zegocloud-console/console/internal/kicker"
	"github.com/zegocloud-console/console/internal/pgtest"
	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/token04"
	"github.com/zegocloud-console/console/internal/web"
	"github.com/zegocloud-console/console/internal/web/api"
	"github.com/zegocloud-console/console/internal/web/ui"
	"github.com/zegocloud-console/console/internal/zego"
)

// TestSecret is the ServerSecret of projects made by Env.createProject.
const TestSecret = "0123456789abcdef0123456789abcdef"

// TestPassword is the password of operators made by Env.createOperator.
const TestPassword = "correct horse battery staple"

// SyncBuffer collects the server's JSON logs so tests can search them.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Env is a console on a fresh database behind a real HTTP server.
type Env struct {
	Web       *web.Server  // the shared server, for what a test must trigger (FlushRefusals)
	Store     *store.Store // as the runtime role
	DB        pgtest.DB    // the database, with its owner's and the superuser's URLs
	srv       *httptest.Server
	URL       string
	PublicURL string // the console's CONSOLE_PUBLIC_URL, if any (see PasskeysOnLocalhost)
	Logs      *SyncBuffer
	stop      func()
}

// NewEnv starts a console server for t with its own migrated database.
func NewEnv(t *testing.T, mods ...func(*web.Config)) *Env {
	t.Helper()
	return NewEnvWith(t, nil, mods...)
}

// NewEnvWith is NewEnv with options for the store, such as a sign-in clock
// that the test moves forward.
func NewEnvWith(t *testing.T, opts []store.Option, mods ...func(*web.Config)) *Env {
	t.Helper()
	return startEnv(t, pgtest.New(t), opts, mods...)
}

// Another starts a second console on e's database, as another instance
// behind a load balancer would run: a store (pool) and HTTP server of its own.
func (e *Env) Another(t *testing.T, mods ...func(*web.Config)) *Env {
	t.Helper()
	return startEnv(t, e.DB, nil, mods...)
}

// Stop stops the console as a shutdown would, before the test ends: its
// HTTP server (cutting long polls) and its store.
func (e *Env) Stop() { e.stop() }

// startEnv starts a console on db with the store options opts.
func startEnv(t *testing.T, db pgtest.DB, opts []store.Option, mods ...func(*web.Config)) *Env {
	t.Helper()
	ctx := t.Context()
	keys, err := store.NewKeyring(bytes.Repeat([]byte{9}, 32))
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, db.RuntimeURL, keys, opts...) // as console serve runs: the runtime role
	if err != nil {
		t.Fatal(err)
	}
	groupCtx, stopGroup := context.WithCancel(context.WithoutCancel(ctx))
	groupDone := make(chan struct{})
	cacheDone := make(chan struct{})
	go func() { // as console serve runs: concurrent issues share commits
		defer close(groupDone)
		st.RunIssueGroupCommit(groupCtx, store.GroupCommit{})
	}()
	go func() { // and verified API keys are kept in memory
		defer close(cacheDone)
		st.RunAPIKeyCache(groupCtx, store.DefaultAPIKeyCacheTTL, slog.New(slog.DiscardHandler))
	}()
	stopBackground := func() { stopGroup(); <-groupDone; <-cacheDone }
	logs := &SyncBuffer{}
	cfg := web.Config{SessionIdle: 30 * time.Minute, SessionMax: 12 * time.Hour, APIRate: 1000, APIBurst: 1000,
		UnauthRate: 1000, UnauthBurst: 1000}
	for _, m := range mods {
		m(&cfg)
	}
	hs := httptest.NewUnstartedServer(nil) // listening already: its port is known
	t.Cleanup(hs.Close)
	if cfg.PublicURL == localhostSelf {
		_, port, _ := net.SplitHostPort(hs.Listener.Addr().String())
		cfg.PublicURL = "http://localhost:" + port
	}
	srv, err := web.New(ctx, st, slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})), cfg,
		prometheus.NewRegistry(), ui.New, api.New)
	if err != nil {
		stopBackground()
		st.Close()
		t.Fatal(err)
	}
	hs.Config.Handler = srv.Handler()
	hs.Start()
	e := &Env{Web: srv, Store: st, DB: db, srv: hs, URL: hs.URL, PublicURL: cfg.PublicURL, Logs: logs}
	e.stop = sync.OnceFunc(func() {
		srv.Drain()
		hs.Close()
		stopBackground()
		st.Close()
	})
	t.Cleanup(e.stop)
	return e
}

// localhostSelf stands for the Env's own address on localhost.
const localhostSelf = "http://localhost:self"

// PasskeysOnLocalhost makes the console the passkeys' relying party at
// http://localhost:<its port> (Env.PublicURL), where browsers allow WebAuthn
// without TLS.
func PasskeysOnLocalhost(c *web.Config) { c.PublicURL = localhostSelf }

var AdminActor = store.Actor{Type: store.ActorSystem, Name: "test-setup"}

// CreateOperator adds an operator with TestPassword.
func (e *Env) CreateOperator(t *testing.T, username, role string) store.Operator {
	t.Helper()
	op, err := e.Store.CreateOperator(t.Context(), store.OperatorInput{Username: username, Role: role, Password: TestPassword}, AdminActor, store.Origin{})
	if err != nil {
		t.Fatalf("create operator %s: %v", username, err)
	}
	return op
}

// CreateProject adds a project (1h default, 24h max TTL, publish allowed).
func (e *Env) CreateProject(t *testing.T, appID uint32) store.Project {
	t.Helper()
	p, err := e.Store.CreateProject(t.Context(), store.ProjectInput{Name: "Project " + strings.Repeat("x", 1), AppID: appID, Environment: "test",
		DefaultTTL: time.Hour, MaxTTL: 24 * time.Hour, PublishAllowed: true}, []byte(TestSecret), AdminActor, store.Origin{})
	if err != nil {
		t.Fatalf("create project: %v", err)
	}
	return p
}

// APIKey creates an API key for the given projects and scopes.
func (e *Env) APIKey(t *testing.T, scopes []string, appIDs ...uint32) string {
	t.Helper()
	raw, _, err := e.Store.CreateAPIKey(t.Context(), store.APIKeyInput{Name: "svc", AppIDs: appIDs, Scopes: scopes}, AdminActor, store.Origin{})
	if err != nil {
		t.Fatalf("create api key: %v", err)
	}
	return raw
}

// FromAddress is the header a trusted proxy adds for a client at ip: requests
// that carry it come from ip when the Env trusts proxies (Config.TrustProxy).
func FromAddress(ip string) http.Header { return http.Header{"X-Forwarded-For": {ip}} }

// Browser is an HTTP client with a cookie jar that does not follow redirects,
// so tests can check where a response sends the visitor.
func (e *Env) Browser(t *testing.T) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// SignIn returns a browser signed in as a new operator with role.
func (e *Env) SignIn(t *testing.T, username, role string) *http.Client {
	t.Helper()
	e.CreateOperator(t, username, role)
	c := e.Browser(t)
	res, err := c.PostForm(e.URL+"/login", url.Values{"username": {username}, "password": {TestPassword}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in %s: got status %d, want 303", username, res.StatusCode)
	}
	return c
}

// Get fetches path and returns status and body.
func (e *Env) Get(t *testing.T, c *http.Client, path string) (int, string) {
	t.Helper()
	res, body := e.Fetch(t, c, path, nil)
	return res.StatusCode, body
}

// Post submits a form and returns the response with its body read.
func (e *Env) Post(t *testing.T, c *http.Client, path string, form url.Values) (*http.Response, string) {
	t.Helper()
	return e.SendForm(t, c, path, form, nil)
}

// ExecAsOwner runs SQL as the schema owner: what a test needs to add a
// trigger that makes a write fail, which the runtime role may not.
func (e *Env) ExecAsOwner(t *testing.T, sql string) {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), e.DB.OwnerURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.WithoutCancel(t.Context()))
	if _, err := conn.Exec(t.Context(), sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// Count runs a counting query on the test database.
func (e *Env) Count(t *testing.T, q string, args ...any) int {
	t.Helper()
	var n int
	if err := e.Store.Pool().QueryRow(t.Context(), q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// OperatorActor is who issues tokens in tests that bypass the form.
var OperatorActor = store.Actor{Type: store.ActorOperator, ID: "900", Name: "alice"}

// IssueFor issues a token through the store, as the API or CLI would.
func (e *Env) IssueFor(t *testing.T, appID uint32, userID string, mods ...func(*store.IssueRequest)) store.IssuedToken {
	t.Helper()
	req := store.IssueRequest{AppID: appID, UserID: userID, Mode: token04.ModeGCM, Channel: store.ChannelAPI, Actor: OperatorActor}
	for _, m := range mods {
		m(&req)
	}
	it, err := e.Store.IssueToken(t.Context(), req)
	if err != nil {
		t.Fatalf("issue token for %s: %v", userID, err)
	}
	return it
}

// CreateProjectWith adds a project with a custom policy and TestSecret.
func (e *Env) CreateProjectWith(t *testing.T, appID uint32, maxTTL time.Duration, publish bool) store.Project {
	t.Helper()
	p, err := e.Store.CreateProject(t.Context(), store.ProjectInput{Name: "Policy project", AppID: appID, Environment: "test",
		DefaultTTL: min(time.Hour, maxTTL), MaxTTL: maxTTL, PublishAllowed: publish}, []byte(TestSecret), AdminActor, store.Origin{})
	if err != nil {
		t.Fatalf("create project: %v", err)
	}
	return p
}

// SealAudit gives every committed audit event its place in the chain.
func (e *Env) SealAudit(t *testing.T) {
	t.Helper()
	for {
		n, err := e.Store.SealPending(t.Context(), 1000)
		if err != nil {
			t.Fatalf("seal audit Events: %v", err)
		}
		if n == 0 {
			return
		}
	}
}

// SendForm posts form to path with extra headers and returns the response
// with its body read.
func (e *Env) SendForm(t *testing.T, c *http.Client, path string, form url.Values, header http.Header) (*http.Response, string) {
	t.Helper()
	h := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	for k, vs := range header {
		h[k] = vs
	}
	return e.send(t, c, http.MethodPost, path, strings.NewReader(form.Encode()), h)
}

// SendMultipart posts a multipart form, as a form with a file input does:
// the fields, then each file by its input's name, with its content.
func (e *Env) SendMultipart(t *testing.T, c *http.Client, path string, fields url.Values, files map[string]string) (*http.Response, string) {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for name, values := range fields {
		for _, v := range values {
			if err := mw.WriteField(name, v); err != nil {
				t.Fatal(err)
			}
		}
	}
	for name, content := range files {
		fw, err := mw.CreateFormFile(name, name+".csv")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fw.Write([]byte(content)); err != nil {
			t.Fatal(err)
		}
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return e.send(t, c, http.MethodPost, path, &body, http.Header{"Content-Type": {mw.FormDataContentType()}})
}

// Fetch GETs path with extra headers.
func (e *Env) Fetch(t *testing.T, c *http.Client, path string, header http.Header) (*http.Response, string) {
	t.Helper()
	return e.send(t, c, http.MethodGet, path, nil, header)
}

// send makes one request and returns the response with its body read.
func (e *Env) send(t *testing.T, c *http.Client, method, path string, body io.Reader, header http.Header) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, e.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

// WithCookie is a browser that sends only the given session cookie.
func (e *Env) WithCookie(t *testing.T, c *http.Cookie) *http.Client {
	t.Helper()
	b := e.Browser(t)
	u, _ := url.Parse(e.URL)
	b.Jar.SetCookies(u, []*http.Cookie{{Name: c.Name, Value: c.Value, Path: "/"}})
	return b
}

// Events counts audit Events with action and outcome.
func (e *Env) Events(t *testing.T, action, outcome string) int {
	t.Helper()
	return e.Count(t, `SELECT Count(*) FROM audit_events WHERE action = $1 AND outcome = $2`, action, outcome)
}

// OperatorPath is the address of an operator's actions, by username.
func (e *Env) OperatorPath(t *testing.T, username string) string {
	t.Helper()
	return "/operators/" + strconv.Itoa(e.Count(t, `SELECT id FROM operators WHERE username = $1`, username))
}

// IssueAt issues a token through the store as if at now (zero: the present).
func (e *Env) IssueAt(t *testing.T, appID uint32, userID string, now time.Time) store.IssuedToken {
	t.Helper()
	it, err := e.Store.IssueToken(t.Context(), store.IssueRequest{AppID: appID, UserID: userID, Mode: token04.ModeGCM,
		Channel: store.ChannelUI, Actor: store.Actor{Type: store.ActorOperator, ID: "1", Name: "issuer"}, Now: now})
	if err != nil {
		t.Fatalf("issue a token for %s: %v", userID, err)
	}
	return it
}

// RunKicker delivers the kicks that revocations queue to ZEGO's server APIs
// at zegoBase (a zegotest stand-in) until t ends, with quick retries.
func (e *Env) RunKicker(t *testing.T, zegoBase string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	w := kicker.New(e.Store, &zego.Client{BaseURL: zegoBase, HTTP: &http.Client{}},
		slog.New(slog.NewJSONHandler(e.Logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		kicker.Options{Poll: 50 * time.Millisecond, BackoffBase: 10 * time.Millisecond, BackoffMax: 100 * time.Millisecond})
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
}
