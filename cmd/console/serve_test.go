package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/zegocloud-console/console/internal/pgtest"
)

var opsOneTimePassword = regexp.MustCompile(`one-time password:\s+(\S+)`)

// opsCheckLogLines asserts that every line of a console's output is a JSON log
// record, except plain lines containing one of plain, and that no log
// record contains a secret.
func opsCheckLogLines(t *testing.T, out string, secrets, plain []string) {
	t.Helper()
	for i, line := range strings.Split(out, "\n") {
		if !strings.HasPrefix(line, "{") {
			if strings.TrimSpace(line) != "" && !opsContainsAny(plain, line) {
				t.Errorf("output line %d: got %q, want a JSON log record", i+1, line)
			}
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil || rec["time"] == nil || rec["level"] == nil || rec["msg"] == nil {
			t.Errorf("output line %d: got %q, want a JSON log record with time, level and msg", i+1, line)
			continue
		}
		for _, s := range secrets {
			if s != "" && strings.Contains(line, s) {
				t.Errorf("log line %d contains a secret (%.4s…): %s", i+1, s, line)
			}
		}
	}
}

func opsContainsAny(subs []string, s string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

func TestServe_FirstStartPrintsOneTimeAdminPasswordOnceAndShutsDownGracefully(t *testing.T) {
	t.Parallel()
	environ := map[string]string{"DATABASE_URL": pgtest.New(t).RuntimeURL, "CONSOLE_MASTER_KEY": opsNewMasterKey(t)}
	c := startInproc(t, environ)
	m := opsOneTimePassword.FindStringSubmatch(c.Log.String())
	if m == nil {
		t.Fatalf("first start: got output\n%s\nwant the one-time admin password", c.Log)
	}
	password := m[1]
	for _, path := range []string{"/healthz", "/readyz"} {
		if status, body := opsGet(c.Client, c.URL+path); status != http.StatusOK {
			t.Errorf("GET %s: got %d (%s), want 200", path, status, body)
		}
	}
	const wrong = "not-the-password-0123456789"
	if status := c.signIn(t, "admin", wrong); status == http.StatusSeeOther {
		t.Errorf("sign in with a wrong password: got 303, want a refusal")
	}
	if status := c.signIn(t, "admin", password); status != http.StatusSeeOther {
		t.Errorf("sign in with the one-time password: got %d, want 303", status)
	}
	if err := c.stop(t); err != nil {
		t.Errorf("run after cancel: got %v, want nil", err)
	}
	if conn, err := net.DialTimeout("tcp", c.Addr, time.Second); err == nil {
		conn.Close()
		t.Errorf("after shutdown %s still accepts connections", c.Addr)
	}
	plain := []string{"First admin created", password, "It is not shown again"}
	opsCheckLogLines(t, c.Log.String(), []string{password, wrong, environ["CONSOLE_MASTER_KEY"]}, plain)
	if strings.Contains(c.Log.String(), environ["CONSOLE_MASTER_KEY"]) {
		t.Errorf("the master key appears in the console's output")
	}

	again := startInproc(t, environ)
	if strings.Contains(again.Log.String(), "First admin created") || opsOneTimePassword.MatchString(again.Log.String()) {
		t.Errorf("second start: got output\n%s\nwant no new admin", again.Log)
	}
	if status := again.signIn(t, "admin", password); status != http.StatusSeeOther {
		t.Errorf("second start: sign in with the first password: got %d, want 303", status)
	}
	if err := again.stop(t); err != nil {
		t.Errorf("second run after cancel: got %v, want nil", err)
	}
	opsCheckLogLines(t, again.Log.String(), []string{password, environ["CONSOLE_MASTER_KEY"]}, nil)
}

func TestServe_MetricsAddrServesMetricsOnItsOwnListenerOnly(t *testing.T) {
	t.Parallel()
	c := startInproc(t, map[string]string{"DATABASE_URL": pgtest.New(t).RuntimeURL, "CONSOLE_MASTER_KEY": opsNewMasterKey(t),
		"CONSOLE_METRICS_ADDR": "127.0.0.1:0"})
	m := regexp.MustCompile(`"msg":"metrics listening","addr":"([^"]+)"`).FindStringSubmatch(c.Log.String())
	if m == nil {
		t.Fatalf("no metrics listener in the output:\n%s", c.Log)
	}
	if status, body := opsGet(c.Client, "http://"+m[1]+"/metrics"); status != http.StatusOK || !strings.Contains(body, "console_http_requests_total") {
		t.Errorf("GET /metrics on CONSOLE_METRICS_ADDR: got %d, want 200 with the console's metrics", status)
	}
	if status, _ := opsGet(c.Client, c.URL+"/metrics"); status != http.StatusNotFound {
		t.Errorf("GET /metrics on the main listener without CONSOLE_METRICS_TOKEN: got %d, want 404", status)
	}
	if status, _ := opsGet(c.Client, "http://"+m[1]+"/debug/pprof/"); status != http.StatusNotFound {
		t.Errorf("GET /debug/pprof/ without CONSOLE_PPROF: got %d, want 404 (profiles only when asked)", status)
	}
}

func TestServe_PprofIsServedOnTheMetricsListenerWhenAsked(t *testing.T) {
	t.Parallel()
	c := startInproc(t, map[string]string{"DATABASE_URL": pgtest.New(t).RuntimeURL, "CONSOLE_MASTER_KEY": opsNewMasterKey(t),
		"CONSOLE_METRICS_ADDR": "127.0.0.1:0", "CONSOLE_PPROF": "true"})
	m := regexp.MustCompile(`"msg":"metrics listening","addr":"([^"]+)"`).FindStringSubmatch(c.Log.String())
	if m == nil {
		t.Fatalf("no metrics listener in the output:\n%s", c.Log)
	}
	if status, body := opsGet(c.Client, "http://"+m[1]+"/debug/pprof/"); status != http.StatusOK || !strings.Contains(body, "goroutine") {
		t.Errorf("GET /debug/pprof/ with CONSOLE_PPROF: got %d, want 200 with the profiles' index", status)
	}
	if status, body := opsGet(c.Client, "http://"+m[1]+"/metrics"); status != http.StatusOK || !strings.Contains(body, "console_http_requests_total") {
		t.Errorf("GET /metrics beside the profiles: got %d, want 200 with the console's metrics", status)
	}
	if status, _ := opsGet(c.Client, c.URL+"/debug/pprof/"); status == http.StatusOK {
		t.Errorf("GET /debug/pprof/ on the main listener: got %d, want the profiles only on the metrics listener", status)
	}
}

func TestServe_WithoutMasterKeyExitsWithCode2AndSaysHowToMakeOne(t *testing.T) {
	t.Parallel()
	for _, dev := range []string{"", "false"} {
		environ := map[string]string{"DATABASE_URL": "postgres://127.0.0.1:1/none", "CONSOLE_DEV": dev}
		stderr := newOpsLog()
		e := env{stdin: strings.NewReader(""), stdout: stderr, stderr: stderr, getenv: func(k string) string { return environ[k] }}
		if code := exitCode(run(context.Background(), e, []string{"serve"}), stderr); code != 2 {
			t.Errorf("CONSOLE_DEV=%q: got exit %d, want 2", dev, code)
		}
		for _, want := range []string{"CONSOLE_MASTER_KEY", "head -c 32 /dev/urandom | base64", "CONSOLE_DEV=true"} {
			if !strings.Contains(stderr.String(), want) {
				t.Errorf("CONSOLE_DEV=%q: got stderr %q, want it to mention %q", dev, stderr, want)
			}
		}
	}
}

func TestServe_DevModeGeneratesMasterKeyOnceAndReusesIt(t *testing.T) {
	t.Parallel()
	dataDir := t.TempDir()
	environ := map[string]string{"DATABASE_URL": pgtest.New(t).RuntimeURL, "CONSOLE_DEV": "true", "CONSOLE_DATA_DIR": dataDir,
		"CONSOLE_ADMIN_PASSWORD": "dev-admin-password-123"}
	keyFile := filepath.Join(dataDir, "master.key")
	var keys []string
	for i := range 2 {
		c := startInproc(t, environ)
		if err := c.stop(t); err != nil {
			t.Errorf("start %d: run after cancel: got %v, want nil", i+1, err)
		}
		out := c.Log.String()
		if !strings.Contains(out, "WARNING: development mode") || !strings.Contains(out, keyFile) {
			t.Errorf("start %d: got output\n%s\nwant a warning naming %s", i+1, out, keyFile)
		}
		b, err := os.ReadFile(keyFile)
		if err != nil {
			t.Fatalf("start %d: %v", i+1, err)
		}
		if fi, _ := os.Stat(keyFile); fi.Mode().Perm() != 0o600 {
			t.Errorf("start %d: %s has mode %v, want 0600", i+1, keyFile, fi.Mode().Perm())
		}
		keys = append(keys, strings.TrimSpace(string(b)))
		if strings.Contains(out, keys[i]) {
			t.Errorf("start %d: the dev master key appears in the console's output", i+1)
		}
		opsCheckLogLines(t, out, []string{keys[i], environ["CONSOLE_ADMIN_PASSWORD"]}, []string{"WARNING: development mode", "First admin"})
	}
	if keys[0] == "" || keys[0] != keys[1] {
		t.Errorf("dev master key: got %q then %q, want one key reused", keys[0], keys[1])
	}
}

func TestServe_ShutdownFinishesInFlightRequestThenReturnsNil(t *testing.T) {
	t.Parallel()
	const password = "in-flight-admin-password"
	dbs := pgtest.New(t)
	c := startInproc(t, map[string]string{"DATABASE_URL": dbs.RuntimeURL, "CONSOLE_MASTER_KEY": opsNewMasterKey(t),
		"CONSOLE_ADMIN_PASSWORD": password})
	// Hold the operators table (as the owner, who may lock it so): a sign-in
	// stays in its handler, waiting for the lock, until the test lets go.
	ctx := context.Background()
	db, err := pgx.Connect(ctx, dbs.OwnerURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(ctx)
	tx, err := db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // committed below
	if _, err := tx.Exec(ctx, `LOCK TABLE operators IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	answered := make(chan int, 1)
	go func() {
		res, err := c.Client.PostForm(c.URL+"/login", url.Values{"username": {"admin"}, "password": {password}})
		if err != nil {
			t.Errorf("in-flight sign-in during shutdown: %v", err)
			answered <- 0
			return
		}
		res.Body.Close()
		answered <- res.StatusCode
	}()
	opsPoll(t, 30*time.Second, "sign-in waiting for the operators table", func() (bool, string) {
		var waiting int
		err := tx.QueryRow(ctx, `SELECT count(*) FROM pg_locks WHERE relation = 'operators'::regclass AND NOT granted`).Scan(&waiting)
		return err == nil && waiting > 0, fmt.Sprintf("%d waiting, err %v", waiting, err)
	})

	c.cancel() // as SIGTERM does
	opsPoll(t, 30*time.Second, "listener closed by shutdown", func() (bool, string) {
		probe, err := net.DialTimeout("tcp", c.Addr, time.Second)
		if err == nil {
			probe.Close()
		}
		return err != nil, fmt.Sprintf("dial: %v", err)
	})
	select {
	case <-c.done:
		t.Fatalf("run returned (%v) while a request was in flight", c.err)
	default:
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if status := <-answered; status != http.StatusSeeOther {
		t.Errorf("in-flight sign-in during shutdown: got %d, want 303", status)
	}
	if err := c.stop(t); err != nil {
		t.Errorf("run after cancel: got %v, want nil", err)
	}
}

// BenchmarkStartupToReady measures `console serve` from start to /readyz 200
// on a migrated database that already has its admin.
func BenchmarkStartupToReady(b *testing.B) {
	environ := map[string]string{"DATABASE_URL": pgtest.New(b).RuntimeURL, "CONSOLE_MASTER_KEY": opsNewMasterKey(b),
		"CONSOLE_ADMIN_PASSWORD": "bench-admin-password-123"}
	if err := startInproc(b, environ).stop(b); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		c := startInproc(b, environ)
		b.StopTimer()
		if err := c.stop(b); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}
