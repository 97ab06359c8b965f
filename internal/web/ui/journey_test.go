package ui_test

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/token04"
	"github.com/zegocloud-console/console/internal/web/webtest"
)

// The project the admin creates in the journey. No page may show
// journeySecret once it has been entered.
const (
	journeyAppID  = "1357924680"
	journeySecret = "Kq7vN2xR9mT4wB6yH1sD3fG5jL8pZ0cE"
	journeyUser   = "student-42"
	journeyRoom   = "room-math-101"
	journeyTTL    = 8 * 3600 // a preset of the issue form, in seconds
	journeyReason = "lesson over (browser journey)"
)

func TestBrowserJourney_AdminCreatesProjectOperatorIssuesAndRevokesAuditorExports(t *testing.T) {
	t.Parallel()
	if len(journeySecret) != token04.SecretLength {
		t.Fatalf("journeySecret has %d characters, want %d", len(journeySecret), token04.SecretLength)
	}
	for _, screen := range viewports {
		t.Run(screen.name, func(t *testing.T) {
			t.Parallel()
			journey(t, screen)
		})
	}
}

// journey is the browser journey at the size of screen: every page it
// passes is captured, so it is also checked (checkPage).
func journey(t *testing.T, screen viewport) {
	e := webtest.NewEnv(t)
	e.CreateOperator(t, "ada", store.RoleAdmin)
	e.CreateOperator(t, "otto", store.RoleOperator)
	e.CreateOperator(t, "audrey", store.RoleAuditor)
	clock := newStopwatch(t)
	h := newHeadlessAt(t, true, screen)
	clock.lap("start Chromium")

	// 1. The admin creates the project through the form.
	admin := h.newTab(t, "admin", e.URL)
	admin.signIn(t, "ada", webtest.TestPassword, "journey-01-login")
	admin.capture(t, "journey-02-dashboard-empty")
	admin.navTo(t, "projects", tid("project-empty"))
	admin.follow(t, "open New project", tid("project-new"), tid("project-form"))
	admin.do(t, "fill the project form",
		chromedp.SendKeys(tid("project-name"), "Live classes (browser)"),
		chromedp.SendKeys(tid("project-appid"), journeyAppID),
		chromedp.Clear(tid("project-env")),
		chromedp.SendKeys(tid("project-env"), "staging"),
		chromedp.SendKeys(tid("project-secret"), journeySecret),
		chromedp.Clear(tid("project-default-ttl")),
		chromedp.SendKeys(tid("project-default-ttl"), "2h"),
		chromedp.Clear(tid("project-max-ttl")),
		chromedp.SendKeys(tid("project-max-ttl"), "48h"),
	)
	admin.capture(t, "journey-03-project-form")
	afterEntry := len(h.pages) // from here on no page may hold the secret
	admin.follow(t, "create the project", tid("project-submit"), tid("secret-versions"))
	projectHTML := admin.capture(t, "journey-04-project")
	masked := "••••…" + journeySecret[len(journeySecret)-4:]
	if !strings.Contains(projectHTML, masked) {
		t.Errorf("project page: the masked secret %q is missing", masked)
	}
	if got := run(t, admin, "read the secret version", chromedp.Text(tid("secret-version-1"))); !strings.Contains(got, masked) {
		t.Errorf("project page: secret version 1 reads %q, want it to show %q", got, masked)
	}
	if got := run(t, admin, "read the AppID", chromedp.Text(tid("project-appid-value"))); got != journeyAppID {
		t.Errorf("project page: AppID %q, want %q", got, journeyAppID)
	}
	admin.navTo(t, "projects", tid("project-row-"+journeyAppID))
	admin.capture(t, "journey-05-projects")
	if got := run(t, admin, "read the masked secret", chromedp.Text(tid("secret-masked"))); got != masked {
		t.Errorf("projects list: secret shown as %q, want %q", got, masked)
	}
	clock.lap("admin creates the project")

	// 2. The operator issues a token and copies it.
	op := h.newTab(t, "operator", e.URL)
	op.signIn(t, "otto", webtest.TestPassword, "")
	op.capture(t, "journey-06-dashboard")
	op.navTo(t, "issue", tid("issue-form"))
	op.do(t, "fill the issue form",
		chromedp.SetValue(tid("issue-project"), journeyAppID),
		chromedp.SendKeys(tid("issue-user"), journeyUser),
		chromedp.SetValue(tid("issue-ttl"), strconv.Itoa(journeyTTL)),
		chromedp.SendKeys(tid("issue-room"), journeyRoom),
	)
	if !run(t, op, "read the login box", chromedp.JavascriptAttribute[bool](tid("issue-login"), "checked")) {
		op.do(t, "tick login", chromedp.Click(tid("issue-login")))
	}
	if run(t, op, "read the publish box", chromedp.JavascriptAttribute[bool](tid("issue-publish"), "checked")) {
		op.do(t, "untick publish", chromedp.Click(tid("issue-publish")))
	}
	op.capture(t, "journey-07-issue-form")
	op.follow(t, "issue the token", tid("issue-submit"), tid("issued-token"))
	shown := strings.TrimSpace(run(t, op, "read the token", chromedp.Text(tid("issued-token"))))
	op.capture(t, "journey-08-issue-result")
	fingerprint := hex.EncodeToString(fingerprintOf(shown))
	if got := run(t, op, "read the fingerprint", chromedp.Text(tid("issued-fingerprint"))); got != fingerprint {
		t.Errorf("issue result: fingerprint %q, want SHA-256 of the token %q", got, fingerprint)
	}
	token := copyToken(t, op)
	if token != shown {
		t.Fatalf("clipboard holds %q, want the token shown %q", token, shown)
	}
	clock.lap("operator issues and copies")

	// 3. The copied token is what was asked for, signed with the project's secret.
	d, err := token04.Decode(token, []byte(journeySecret), token04.DecodeOptions{})
	if err != nil {
		t.Fatalf("decode the copied token with the project's secret: %v", err)
	}
	if d.Claims.AppID != 1357924680 || d.Claims.UserID != journeyUser || d.Claims.Expire-d.Claims.CTime != journeyTTL {
		t.Errorf("claims: got app_id %d, user_id %q, lifetime %ds; want %s, %q, %ds",
			d.Claims.AppID, d.Claims.UserID, d.Claims.Expire-d.Claims.CTime, journeyAppID, journeyUser, journeyTTL)
	}
	priv, err := token04.ParsePrivilege(d.Claims.Payload)
	if err != nil {
		t.Fatalf("privilege payload %q: %v", d.Claims.Payload, err)
	}
	if priv.RoomID != journeyRoom || !priv.Login || priv.Publish {
		t.Errorf("privileges: got room %q, login %v, publish %v; want %q, true, false", priv.RoomID, priv.Login, priv.Publish, journeyRoom)
	}

	// The inspector agrees: active, issued here.
	op.navTo(t, "inspect", tid("inspect-form"))
	op.do(t, "paste the token", chromedp.SetValue(tid("inspect-token"), token)) // a paste, not typing
	op.follow(t, "inspect", tid("inspect-submit"), tid("inspect-result"))
	if v := run(t, op, "read the verdict", chromedp.AttributeValue(tid("inspect-verdict"), "data-active")); v.Value != "true" {
		t.Errorf("inspector: data-active=%q, want true", v.Value)
	}
	op.capture(t, "journey-09-inspector")
	clock.lap("token decodes and inspects")

	// 4. The operator revokes it from the Tokens page.
	confirms := op.acceptDialogs()
	op.navTo(t, "tokens", tid("tokens-filter"))
	row := chromedp.CSS(fmt.Sprintf(`tr[data-testid^="token-row-"]:has(td[title=%q])`, fingerprint))
	op.do(t, "find the token's row", chromedp.WaitVisible(row))
	attrs := run(t, op, "read the token's row", chromedp.Attributes(row))
	id := strings.TrimPrefix(attrs["data-testid"], "token-row-")
	if attrs["data-state"] != store.TokenActive {
		t.Errorf("tokens: the new token is %q, want active", attrs["data-state"])
	}
	if n := e.Count(t, `SELECT count(*) FROM issued_tokens WHERE id::text = $1 AND fingerprint = $2`, id, fingerprintOf(token)); n != 1 {
		t.Fatalf("tokens: row %q is not the record of the issued token", id)
	}
	op.capture(t, "journey-10-tokens")
	op.do(t, "give a reason", chromedp.SendKeys(tid("revoke-reason-"+id), journeyReason))
	op.follow(t, "revoke", tid("revoke-"+id), chromedp.CSS(fmt.Sprintf(`[data-testid="token-row-%s"][data-state="revoked"]`, id)))
	select {
	case msg := <-confirms:
		if msg != "Revoke this token?" {
			t.Errorf("revoke confirmation said %q", msg)
		}
	default:
		t.Error("revoke: no confirmation dialog was shown")
	}
	if got := run(t, op, "read the state", chromedp.Text(tid("token-state-"+id))); got != store.TokenRevoked {
		t.Errorf("tokens: state %q after revoking, want revoked", got)
	}
	if got := run(t, op, "read the row", chromedp.Text(tid("token-row-"+id))); !strings.Contains(got, journeyReason) || !strings.Contains(got, "otto") {
		t.Errorf("tokens: revoked row reads %q, want who (otto) and why (%q)", got, journeyReason)
	}
	op.capture(t, "journey-11-tokens-revoked")
	clock.lap("operator revokes")

	// 5. The auditor finds both events, looks at one and exports them.
	aud := h.newTab(t, "auditor", e.URL)
	aud.signIn(t, "audrey", webtest.TestPassword, "")
	aud.capture(t, "journey-12-dashboard-auditor")
	aud.navTo(t, "audit", tid("audit-filter"))
	aud.do(t, "filter token.issue", chromedp.SendKeys(tid("audit-filter-action"), "token.issue"))
	aud.follow(t, "filter token.issue", tid("audit-filter-submit"), tid("audit-filter"))
	requireAuditRows(t, aud, "action token.issue", id, "token.issue", "token.issue")
	aud.capture(t, "journey-13-audit-issue")
	aud.do(t, "filter token.revoke", chromedp.Clear(tid("audit-filter-action")), chromedp.SendKeys(tid("audit-filter-action"), "token.revoke"))
	aud.follow(t, "filter token.revoke", tid("audit-filter-submit"), tid("audit-filter"))
	requireAuditRows(t, aud, "action token.revoke", id, "token.revoke", "token.revoke")
	aud.do(t, "find by token", chromedp.Clear(tid("audit-filter-action")), chromedp.SetValue(tid("audit-filter-token"), token))
	aud.follow(t, "find by token", tid("audit-filter-submit"), tid("audit-filter"))
	if loc := run(t, aud, "read the location", chromedp.Location()); strings.Contains(loc, url.QueryEscape(token)) || !strings.Contains(loc, "fingerprint="+fingerprint) {
		t.Errorf("audit: find by token went to %s, want the fingerprint and not the token in the address", loc)
	}
	rows := requireAuditRows(t, aud, "find by token", id, "", "token.issue", "token.revoke")
	revokeRow := tid(rows["token.revoke"])
	aud.do(t, "open the event's details",
		chromedp.Click(revokeRow+" details summary"),
		chromedp.WaitVisible(revokeRow+" details dl"),
	)
	if got := run(t, aud, "read the details", chromedp.Text(revokeRow+" details")); !strings.Contains(got, fingerprint) || !strings.Contains(got, journeyReason) {
		t.Errorf("audit: the revoke event's details read %q, want the fingerprint and the reason", got)
	}
	aud.capture(t, "journey-14-audit-details")
	clock.lap("auditor filters")

	downloads := t.TempDir()
	aud.allowDownloads(t, downloads)
	for _, format := range []string{"csv", "ndjson"} {
		name, data := aud.download(t, "export "+format, tid("audit-export-"+format), downloads)
		if !strings.HasSuffix(name, "."+format) {
			t.Errorf("export %s: file name %q", format, name)
		}
		events := exportedEvents(t, format, data)
		for _, action := range []string{"token.issue", "token.revoke"} {
			if n := events[action+" "+id]; n != 1 {
				t.Errorf("export %s: %d %s events for token %s, want 1:\n%s", format, n, action, id, data)
			}
		}
	}
	clock.lap("auditor exports CSV and NDJSON")

	// The database agrees, and the secret never came back.
	for _, action := range []string{"token.issue", "token.revoke"} {
		if n := e.Count(t, `SELECT count(*) FROM audit_events WHERE action = $1 AND target_id = $2`, action, id); n != 1 {
			t.Errorf("database: %d %s events for token %s, want 1", n, action, id)
		}
	}
	if n := e.Count(t, `SELECT count(*) FROM audit_events WHERE action = 'audit.export' AND actor_name = 'audrey'`); n != 2 {
		t.Errorf("database: %d audit.export events, want 2", n)
	}
	h.requireNoSecretSeen(t, journeySecret, afterEntry)
	if strings.Contains(e.Logs.String(), journeySecret) || strings.Contains(e.Logs.String(), token) {
		t.Error("the server's logs hold the ServerSecret or the token")
	}
	t.Logf("screenshots of %d pages in %s", len(h.pages), h.shots)
	clock.total()
}

// copyToken clicks the copy button of the issue result and returns what the
// clipboard then holds. The tab's origin may read the clipboard, and focus
// is emulated, because readText needs a focused page and headless Chromium
// has no window to focus.
func copyToken(t *testing.T, b *tab) string {
	t.Helper()
	ctxID := chromedp.FromContext(b.ctx).BrowserContextID
	for _, name := range []string{"clipboard-read", "clipboard-write"} {
		_, err := chromedp.CallBrowser(b.ctx, browser.SetPermission, browser.SetPermissionParams{
			Permission: &browser.PermissionDescriptor{Name: name}, Setting: browser.PermissionSettingGranted,
			Origin: b.base, BrowserContextID: ctxID,
		})
		if err != nil {
			t.Fatalf("grant %s: %v", name, err)
		}
	}
	if _, err := chromedp.Call(b.ctx, emulation.SetFocusEmulationEnabled, emulation.SetFocusEmulationEnabledParams{Enabled: true}); err != nil {
		t.Fatalf("emulate focus: %v", err)
	}
	width := `document.querySelector("[data-testid=copy-token]").getBoundingClientRect().width`
	before := run(t, b, "measure Copy", chromedp.Evaluate[float64](width))
	b.do(t, "click Copy",
		chromedp.Click(tid("copy-token")),
		chromedp.WaitReady(chromedp.CSS(`[data-testid="copy-token"][data-copied="true"]`)),
	)
	if after := run(t, b, "measure Copied", chromedp.Evaluate[float64](width)); after != before {
		t.Errorf("the Copy button is %.1f px wide, and %.1f px as Copied: want the same width", before, after)
	}
	return run(t, b, "read the clipboard", chromedp.Evaluate[string](`navigator.clipboard.readText()`, chromedp.EvalAwaitPromise))
}

// shownAuditRow is a row of the audit table as the browser shows it.
type shownAuditRow struct {
	TestID string `json:"testid"`
	Action string `json:"action"`
	Target string `json:"target"`
}

// requireAuditRows checks the audit table: every row has action onlyAction
// (unless it is ""), and for each of wants there is one row of that action
// whose target is token id. It returns the rows' data-testid by action.
func requireAuditRows(t *testing.T, b *tab, what, id, onlyAction string, wants ...string) map[string]string {
	t.Helper()
	rows := run(t, b, what+": read the audit table", chromedp.Evaluate[[]shownAuditRow](
		`[...document.querySelectorAll('#audit-table tbody tr[data-action]')].map(r => ({
			testid: r.dataset.testid, action: r.dataset.action, target: r.dataset.targetId}))`))
	found := map[string]string{}
	for _, r := range rows {
		if onlyAction != "" && r.Action != onlyAction {
			t.Errorf("audit %s: a %s event is shown", what, r.Action)
		}
		if strings.Contains(r.Target, id) {
			if _, dup := found[r.Action]; dup {
				t.Errorf("audit %s: two %s events for token %s", what, r.Action, id)
			}
			found[r.Action] = r.TestID
		}
	}
	for _, w := range wants {
		if found[w] == "" {
			t.Fatalf("audit %s: no %s event for token %s among %+v", what, w, id, rows)
		}
	}
	return found
}

// exportedEvents counts the events of an audit export by "action target_id".
func exportedEvents(t *testing.T, format string, data []byte) map[string]int {
	t.Helper()
	n := map[string]int{}
	switch format {
	case "csv":
		records, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
		if err != nil || len(records) == 0 {
			t.Fatalf("export csv: %v:\n%s", err, data)
		}
		col := map[string]int{}
		for i, name := range records[0] {
			col[name] = i
		}
		action, okA := col["action"]
		target, okT := col["target_id"]
		if !okA || !okT {
			t.Fatalf("export csv: header %v has no action or target_id", records[0])
		}
		for _, r := range records[1:] {
			n[r[action]+" "+r[target]]++
		}
	case "ndjson":
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var ev struct {
				Action   string `json:"action"`
				TargetID string `json:"target_id"`
			}
			if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
				t.Fatalf("export ndjson: line %q: %v", sc.Text(), err)
			}
			n[ev.Action+" "+ev.TargetID]++
		}
		if err := sc.Err(); err != nil {
			t.Fatalf("export ndjson: %v", err)
		}
	}
	return n
}

// stopwatch logs how long each step of a browser test took.
type stopwatch struct {
	t           *testing.T
	start, last time.Time
}

func newStopwatch(t *testing.T) *stopwatch {
	now := time.Now()
	return &stopwatch{t: t, start: now, last: now}
}

func (s *stopwatch) lap(step string) {
	s.t.Helper()
	now := time.Now()
	s.t.Logf("timing: %-34s %8v", step, now.Sub(s.last).Round(time.Millisecond))
	s.last = now
}

func (s *stopwatch) total() {
	s.t.Helper()
	s.t.Logf("timing: %-34s %8v", "total", time.Since(s.start).Round(time.Millisecond))
}

func TestBrowser_PagesHaveNoCSPViolationsOrConsoleErrors(t *testing.T) {
	t.Parallel()
	e := webtest.NewEnv(t)
	e.CreateOperator(t, "ada", store.RoleAdmin)
	e.CreateProject(t, 2468)
	e.IssueFor(t, 2468, "user-1")
	control := cspControlServer(t, e)
	h := newHeadless(t, false)
	admin := h.newTab(t, "admin", e.URL)

	// The listener runs in the tab's event loop, in the order of arrival.
	var mu sync.Mutex
	var problems []string
	controlSeen := make(chan string, 1)
	current := "" // the page the tab shows, for the failure messages
	err := chromedp.Listen(admin.ctx, func(ev any) {
		var msg, where string
		switch ev := ev.(type) {
		case *page.EventFrameNavigated:
			if ev.Frame.ParentID == "" {
				current = ev.Frame.URL
			}
		case *runtime.EventExceptionThrown:
			msg, where = "exception: "+ev.ExceptionDetails.Text, ev.ExceptionDetails.URL
			if ev.ExceptionDetails.Exception != nil {
				msg += " " + ev.ExceptionDetails.Exception.Description
			}
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
				msg = "console." + string(ev.Type) + ": " + consoleArgs(ev.Args)
			}
		case *log.EventEntryAdded:
			if ev.Entry.Level == log.EntryLevelError || strings.Contains(ev.Entry.Text, "Content Security Policy") {
				msg, where = fmt.Sprintf("log %s/%s: %s", ev.Entry.Source, ev.Entry.Level, ev.Entry.Text), ev.Entry.URL
			}
		}
		if where == "" {
			where = current
		}
		switch {
		case msg == "":
		case strings.HasPrefix(where, control):
			select {
			case controlSeen <- msg:
			default:
			}
		default:
			mu.Lock()
			problems = append(problems, msg+" (on "+where+")")
			mu.Unlock()
		}
	})
	if err != nil {
		t.Fatalf("listen: %v", err)
	}

	admin.signIn(t, "ada", webtest.TestPassword, "")
	for _, v := range []struct{ path, waitFor string }{
		{"/", "dashboard-totals"},
		{"/projects", "project-table"},
		{"/projects/new", "project-form"},
		{"/projects/2468", "secret-versions"},
		{"/projects/2468/edit", "project-form"},
		{"/projects/2468/delete", "project-delete-confirm"},
		{"/tokens", "tokens-filter"},
		{"/audit", "audit-filter"},
		{"/operators", "operator-table"},
		{"/apikeys", "apikey-empty"},
		{"/issue?app_id=2468", "issue-form"},
	} {
		admin.open(t, v.path, v.waitFor)
	}
	admin.do(t, "fill the issue form", chromedp.SendKeys(tid("issue-user"), "user-2"))
	admin.follow(t, "issue", tid("issue-submit"), tid("issued-token"))
	token := strings.TrimSpace(run(t, admin, "read the token", chromedp.Text(tid("issued-token"))))
	admin.navTo(t, "inspect", tid("inspect-form"))
	admin.do(t, "paste the token", chromedp.SetValue(tid("inspect-token"), token))
	admin.follow(t, "inspect", tid("inspect-submit"), tid("inspect-result"))
	admin.navTo(t, "audit", tid("audit-filter"))
	admin.do(t, "open an event's details",
		chromedp.Click(chromedp.CSS(`#audit-table details summary`)),
		chromedp.WaitVisible(chromedp.CSS(`#audit-table details dl`)),
	)

	// Control: a page under the console's own CSP with an inline style must
	// be reported, or the listener proves nothing. It comes last: events
	// arrive in order, so once its report is here every earlier one is too.
	admin.do(t, "open the control page", chromedp.Navigate(control))
	select {
	case msg := <-controlSeen:
		t.Logf("control page reported as expected: %s", msg)
	case <-admin.ctx.Done():
		t.Fatal("the control page's inline style was not reported: this listener cannot see CSP violations")
	}
	mu.Lock()
	defer mu.Unlock()
	for _, p := range problems {
		t.Errorf("%s", p)
	}
}

// cspControlServer serves a page that breaks the console's Content Security
// Policy (as the console sends it) with an inline style, and returns its URL.
func cspControlServer(t *testing.T, e *webtest.Env) string {
	t.Helper()
	res, err := http.Get(e.URL + "/login")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	csp := res.Header.Get("Content-Security-Policy")
	if csp == "" || strings.Contains(csp, "unsafe-inline") {
		t.Fatalf("the console's CSP is %q, want one that forbids inline styles", csp)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", csp)
		fmt.Fprint(w, `<!DOCTYPE html><title>control</title><p style="color: red">inline style</p>`)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/csp-control"
}

// consoleArgs renders console call arguments for a failure message.
func consoleArgs(args []*runtime.RemoteObject) string {
	var parts []string
	for _, a := range args {
		if len(a.Value) > 0 {
			parts = append(parts, string(a.Value))
		} else {
			parts = append(parts, a.Description)
		}
	}
	return strings.Join(parts, " ")
}
