package web_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/zegocloud-console/console/internal/web"
	"github.com/zegocloud-console/console/internal/web/webtest"
)

func TestClientIP_BehindATrustedProxyIsTheAddressTheProxySaw(t *testing.T) {
	t.Parallel()
	e := webtest.NewEnv(t, func(c *web.Config) { c.TrustProxy = true })
	req, _ := http.NewRequest(http.MethodPost, e.URL+"/login", strings.NewReader(url.Values{"username": {"nobody"}, "password": {"wrong password!"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	// The client wrote the first entry; the proxy appended the last one.
	req.Header.Set("X-Forwarded-For", "203.0.113.9, 198.51.100.7")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if n := e.Count(t, `SELECT count(*) FROM audit_events WHERE action = 'auth.login_failed' AND client_ip = '198.51.100.7'`); n != 1 {
		t.Fatalf("auth.login_failed from the proxy's view of the client: got %d, want 1", n)
	}
}

func TestMetrics_UnknownMethodsShareOneLabel(t *testing.T) {
	t.Parallel()
	e := webtest.NewEnv(t, func(c *web.Config) { c.MetricsToken = "metrics-secret" })
	for _, m := range []string{"FOO", "BAR"} {
		req, _ := http.NewRequest(m, e.URL+"/nowhere", nil)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
	}
	req, _ := http.NewRequest(http.MethodGet, e.URL+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer metrics-secret")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if strings.Contains(string(body), `method="FOO"`) || !strings.Contains(string(body), `method="OTHER"`) {
		t.Fatal(`metrics: want arbitrary methods counted under method="OTHER", not one series each`)
	}
}

func TestSecurityHeaders_HSTSOnlyWhenServedOverTLS(t *testing.T) {
	t.Parallel()
	e := webtest.NewEnv(t, func(c *web.Config) { c.TrustProxy = true })
	for _, tt := range []struct {
		name  string
		proto string
		want  bool
	}{
		{"behind a TLS-terminating proxy", "https", true},
		{"plain HTTP", "", false},
	} {
		req, _ := http.NewRequest(http.MethodGet, e.URL+"/login", nil)
		if tt.proto != "" {
			req.Header.Set("X-Forwarded-Proto", tt.proto)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		got := res.Header.Get("Strict-Transport-Security")
		if (got != "") != tt.want {
			t.Errorf("%s: Strict-Transport-Security = %q, want present=%v", tt.name, got, tt.want)
		}
		if tt.want && !strings.Contains(got, "max-age=") {
			t.Errorf("%s: Strict-Transport-Security = %q, want a max-age", tt.name, got)
		}
	}
}

// /metrics lists every AppID and its volumes: it is not served to anyone who
// asks. On the main listener it needs CONSOLE_METRICS_TOKEN as a bearer
// token; without one it is served only on CONSOLE_METRICS_ADDR.
func TestMetrics_AreNotOpenToAnyone(t *testing.T) {
	t.Parallel()
	status := func(t *testing.T, url, auth string) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	open := webtest.NewEnv(t)
	if got := status(t, open.URL+"/metrics", ""); got != http.StatusNotFound {
		t.Errorf("without a metrics token: got %d, want 404 (served on CONSOLE_METRICS_ADDR only)", got)
	}
	guarded := webtest.NewEnv(t, func(c *web.Config) { c.MetricsToken = "metrics-secret" })
	for _, tt := range []struct {
		auth string
		want int
	}{
		{"", http.StatusUnauthorized},
		{"Bearer wrong", http.StatusUnauthorized},
		{"Bearer metrics-secret", http.StatusOK},
	} {
		if got := status(t, guarded.URL+"/metrics", tt.auth); got != tt.want {
			t.Errorf("with a metrics token, Authorization %q: got %d, want %d", tt.auth, got, tt.want)
		}
	}
}
