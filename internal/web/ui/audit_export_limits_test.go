package ui_test

import (
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/web"
	"github.com/zegocloud-console/console/internal/web/webtest"
)

// pageAnswer is a page a browser got in the background.
type pageAnswer struct {
	status int
	body   string
	err    error
}

// getInBackground fetches path with the browser c and sends the page on
// the returned channel.
func getInBackground(e *webtest.Env, c *http.Client, path string) <-chan pageAnswer {
	out := make(chan pageAnswer, 1)
	go func() {
		res, err := c.Get(e.URL + path)
		if err != nil {
			out <- pageAnswer{err: err}
			return
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		out <- pageAnswer{status: res.StatusCode, body: string(b), err: err}
	}()
	return out
}

// awaitPage waits up to 30 s for a page.
func awaitPage(t *testing.T, what string, ch <-chan pageAnswer) pageAnswer {
	t.Helper()
	select {
	case p := <-ch:
		if p.err != nil {
			t.Fatalf("%s: %v", what, p.err)
		}
		return p
	case <-time.After(30 * time.Second):
		t.Fatalf("%s: no page within 30 s", what)
	}
	return pageAnswer{}
}

func TestAuditExportUI_AnExportThatCannotRunSaysWhyOnAPage(t *testing.T) {
	t.Parallel()
	e := webtest.NewEnv(t, func(c *web.Config) {
		c.ExportBatchTimeout = 200 * time.Millisecond
		c.ExportConcurrency = 1
	})
	e.CreateProject(t, 1001)
	e.IssueFor(t, 1001, "henry")
	aud := e.SignIn(t, "audrey", store.RoleAuditor)

	// A free text that cannot be searched in time: the table is held, and
	// the refusal's audit event waits for it too.
	lock := e.HoldLock(t, "audit_events")
	page := getInBackground(e, aud, "/audit/export?format=csv&q=henry")
	lock.WaitFor(t, "RowExclusiveLock", "the refused export's audit event waits for the table")
	lock.Release()
	p := awaitPage(t, "export with a text too common", page)
	if p.status != http.StatusBadRequest {
		t.Fatalf("export with a text too common: got %d, want 400 (%.300s)", p.status, p.body)
	}
	requireInBody(t, p.body, "The export was not started", "too common to search in time")

	// One export at a time here: a second one while the first waits is
	// refused with a page that says so, and the first still completes.
	lock = e.HoldLock(t, "audit_events")
	first := getInBackground(e, aud, "/audit/export?format=csv&action=token.issue")
	lock.WaitFor(t, "AccessShareLock", "the first export reads")
	second := getInBackground(e, aud, "/audit/export?format=ndjson")
	lock.WaitFor(t, "RowExclusiveLock", "the refused export's audit event waits for the table")
	lock.Release()
	p = awaitPage(t, "second export", second)
	if p.status != http.StatusServiceUnavailable {
		t.Fatalf("second export: got %d, want 503 (%.300s)", p.status, p.body)
	}
	requireInBody(t, p.body, "Too many exports", "Nothing was exported")
	if p := awaitPage(t, "first export", first); p.status != http.StatusOK {
		t.Fatalf("first export: got %d, want 200 (%.300s)", p.status, p.body)
	}
	if n := e.Count(t, `SELECT count(*) FROM audit_events WHERE action = 'audit.export' AND outcome = 'error'`); n != 2 {
		t.Errorf("refused exports in the audit trail: got %d, want 2", n)
	}
}
