package api_test

import (
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/web"
	"github.com/zegocloud-console/console/internal/web/webtest"
)

// pendingCall is a request sent in the background; wait returns its answer,
// checked against the OpenAPI document.
type pendingCall struct {
	req  *http.Request
	done chan apiResponse
	err  chan error
}

// start sends a GET with the key in the background.
func (a *apiEnv) start(t *testing.T, path, key string) *pendingCall {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, a.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	p := &pendingCall{req: req, done: make(chan apiResponse, 1), err: make(chan error, 1)}
	go func() {
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			p.err <- err
			return
		}
		defer res.Body.Close()
		body, err := io.ReadAll(res.Body)
		if err != nil {
			p.err <- err
			return
		}
		p.done <- apiResponse{status: res.StatusCode, header: res.Header, body: body}
	}()
	return p
}

// wait returns the answer, failing the test when there is none within 30 s.
func (p *pendingCall) wait(t *testing.T) apiResponse {
	t.Helper()
	select {
	case r := <-p.done:
		validateAgainstOpenAPI(t, p.req, &http.Response{StatusCode: r.status, Header: r.header}, r.body)
		return r
	case err := <-p.err:
		t.Fatalf("GET %s: %v", p.req.URL, err)
	case <-time.After(30 * time.Second):
		t.Fatalf("GET %s: no answer within 30 s", p.req.URL)
	}
	return apiResponse{}
}

// exportRefusals returns the audit.export events that say an export was
// refused or aborted, oldest first.
func (a *apiEnv) exportRefusals(t *testing.T) []store.AuditEvent {
	t.Helper()
	var out []store.AuditEvent
	for _, e := range a.events(t, "audit.export") {
		if e.Outcome == store.OutcomeError {
			out = append(out, e)
		}
	}
	return out
}

func TestAuditExportAPI_AFilterThatCannotBeReadInTimeIsRefusedBeforeAnyByte(t *testing.T) {
	t.Parallel()
	a := newAPIEnv(t, func(c *web.Config) { c.ExportBatchTimeout = 200 * time.Millisecond })
	a.CreateProject(t, 1001)
	a.IssueFor(t, 1001, "henry")
	key := a.key(t, []string{store.ScopeAuditRead}, 1001)
	for _, c := range []struct {
		name, query   string
		status        int
		slug, mention string
	}{
		{"a free text", "q=henry", http.StatusBadRequest, "bad-filter", "too common"},
		{"no free text", "action=token.issue", http.StatusServiceUnavailable, "unavailable", "time limit"},
	} {
		// The events cannot be read while the table is held; the refusal's
		// own audit event waits for it too, and is written before the answer.
		lock := a.HoldLock(t, "audit_events")
		call := a.start(t, "/api/v1/audit/export?"+c.query, key)
		lock.WaitFor(t, "RowExclusiveLock", c.name+": the refused export's audit event waits for the table")
		lock.Release()
		res := call.wait(t)
		p := res.wantProblem(t, c.status, c.slug)
		if text := p.Detail + p.Errors["q"]; !strings.Contains(text, c.mention) {
			t.Errorf("%s: got detail %q, errors %v; want them to mention %q", c.name, p.Detail, p.Errors, c.mention)
		}
	}
	refusals := a.exportRefusals(t)
	if len(refusals) != 2 || !strings.Contains(string(refusals[0].Details), `"reason": "too_slow"`) {
		t.Fatalf("got refusal events %+v, want one per refused export with the reason", refusals)
	}
	if n := len(a.events(t, "audit.export")); n != 2 {
		t.Errorf("got %d audit.export events, want only the 2 refusals", n)
	}
}

// smallReceiveBuffer dials with a small socket receive buffer, so that a
// client that stops reading holds up the server's writes soon.
func smallReceiveBuffer() *http.Client {
	d := &net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 8192) })
		if err != nil {
			return err
		}
		return serr
	}}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
}

func TestAuditExportAPI_AnExportPastItsMaximumDurationIsAbortedAuditedAndFreesItsSlot(t *testing.T) {
	t.Parallel()
	a := newAPIEnv(t, func(c *web.Config) {
		c.ExportMaxDuration = 3 * time.Second
		c.ExportConcurrency = 1
	})
	a.CreateProject(t, 1001)
	key := a.key(t, []string{store.ScopeAuditRead}, 1001)
	// About 12 MB of events: more than the sockets between the server and a
	// client that stopped reading can hold.
	a.ExecAsOwner(t, `INSERT INTO audit_events (actor_type, actor_name, action, outcome, app_id, project_id, target_type, target_id, details)
		SELECT 'system', 'seed', 'token.issue', 'success', 1001, (SELECT id FROM projects WHERE app_id = 1001 AND deleted_at IS NULL),
			'token', 't' || g, jsonb_build_object('pad', repeat('x', 1000))
		FROM generate_series(1, 12000) g`)

	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, a.URL+"/api/v1/audit/export?action=token.issue", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	slow, err := smallReceiveBuffer().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Body.Close()
	if slow.StatusCode != http.StatusOK {
		t.Fatalf("the slow client's export: got %d, want 200", slow.StatusCode)
	}

	// While it runs, this instance takes no other export.
	busy := a.get(t, "/api/v1/audit/export?action=token.issue", key)
	if busy.status != http.StatusServiceUnavailable {
		t.Fatalf("a second export while one runs: got %d (%.200s), want 503", busy.status, busy.body)
	}
	p := busy.wantProblem(t, http.StatusServiceUnavailable, "busy")
	if busy.header.Get("Retry-After") == "" || !strings.Contains(p.Detail, "export") {
		t.Errorf("busy export: got Retry-After %q, detail %q; want a Retry-After and a reason", busy.header.Get("Retry-After"), p.Detail)
	}

	webtest.WaitUntil(t, 30*time.Second, "the stalled export aborted and audited", func() bool {
		for _, e := range a.exportRefusals(t) {
			if strings.Contains(string(e.Details), `"reason": "max_duration"`) {
				return true
			}
		}
		return false
	})
	if _, err := io.Copy(io.Discard, slow.Body); err == nil {
		t.Error("the slow client's export ended as a complete file; want a broken transfer")
	}
	if !strings.Contains(a.Logs.String(), `"msg":"audit export aborted"`) {
		t.Error("no log line says the export was aborted")
	}

	if res := a.get(t, "/api/v1/audit/export?action=project.create", key); res.status != http.StatusOK {
		t.Errorf("an export after the aborted one: got %d (%s), want 200", res.status, res.body)
	}
}
