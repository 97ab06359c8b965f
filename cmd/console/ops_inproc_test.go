package main

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// inprocConsole is `console serve` running in a goroutine of the test.
type inprocConsole struct {
	URL, Addr string
	Log       *opsLog
	Client    *http.Client // no redirects followed, cookies kept
	cancel    context.CancelFunc
	stopOnce  sync.Once
	done      chan struct{}
	err       error // run's result once done is closed
}

// startInproc runs `console serve` with environ as its whole environment
// (CONSOLE_ADDR defaults to a port the kernel picks) and waits until it is
// ready. It is stopped when t ends.
func startInproc(t testing.TB, environ map[string]string) *inprocConsole {
	t.Helper()
	env0 := map[string]string{"CONSOLE_ADDR": "127.0.0.1:0"}
	for k, v := range environ {
		env0[k] = v
	}
	ctx, cancel := context.WithCancel(context.Background())
	jar, _ := cookiejar.New(nil)
	c := &inprocConsole{Log: newOpsLog(), cancel: cancel, done: make(chan struct{}),
		Client: &http.Client{Jar: jar, Timeout: 20 * time.Second, Transport: &http.Transport{},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	e := env{stdin: strings.NewReader(""), stdout: c.Log, stderr: c.Log, getenv: func(k string) string { return env0[k] }}
	go func() {
		defer close(c.done)
		c.err = run(ctx, e, []string{"serve"})
	}()
	t.Cleanup(func() { c.stop(t) })
	m := c.Log.waitFor(opsListening, 0, c.done, 60*time.Second)
	if m == nil {
		c.stop(t)
		t.Fatalf("console serve did not start listening (run returned %v); its output:\n%s", c.err, c.Log)
	}
	c.Addr, c.URL = m[1], "http://"+m[1]
	opsWaitReady(t, c.Client, c.URL, 30*time.Second)
	return c
}

// stop cancels the console's context and returns what run returned; it fails
// t when run does not return within the shutdown deadline.
func (c *inprocConsole) stop(t testing.TB) error {
	t.Helper()
	c.stopOnce.Do(func() {
		c.cancel()
		c.Client.CloseIdleConnections()
	})
	select {
	case <-c.done:
		return c.err
	case <-time.After(30 * time.Second):
		t.Fatalf("console serve did not return within 30s of cancel; its output:\n%s", c.Log)
		return nil
	}
}

// signIn posts the sign-in form and returns the status.
func (c *inprocConsole) signIn(t testing.TB, username, password string) int {
	t.Helper()
	res, err := c.Client.PostForm(c.URL+"/login", url.Values{"username": {username}, "password": {password}})
	if err != nil {
		t.Fatalf("POST /login: %v", err)
	}
	res.Body.Close()
	return res.StatusCode
}
