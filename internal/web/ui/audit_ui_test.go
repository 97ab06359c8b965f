package ui_test

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/web/webtest"
)

// auditFixture is a console with events of several actions, actors,
// outcomes and projects.
type auditFixture struct {
	e      *webtest.Env
	c      *http.Client
	traced store.IssuedToken // issued by alice in 1001, then revoked
}

func newAuditFixture(t *testing.T) auditFixture {
	t.Helper()
	e := webtest.NewEnv(t)
	e.CreateProject(t, 1001)
	e.CreateProject(t, 1002)
	traced := e.IssueFor(t, 1001, "henry")
	e.IssueFor(t, 1002, "henry", func(r *store.IssueRequest) {
		r.Actor = store.Actor{Type: store.ActorOperator, ID: "901", Name: "bruno"}
	})
	if _, err := e.Store.RevokeToken(t.Context(), 1001, traced.Record.ID, "", webtest.OperatorActor, store.Origin{}); err != nil {
		t.Fatal(err)
	}
	aud := e.SignIn(t, "audrey", store.RoleAuditor)
	if res, _ := e.Post(t, aud, "/issue", issueFormValues("1001", "x")); res.StatusCode != http.StatusForbidden {
		t.Fatalf("auditor POST /issue: got %d, want 403", res.StatusCode)
	}
	return auditFixture{e: e, c: aud, traced: traced}
}

func TestAuditPage_FiltersEvents(t *testing.T) {
	t.Parallel()
	fx := newAuditFixture(t)
	e, c := fx.e, fx.c
	tests := []struct {
		name, query string
		want        int                     // rows expected
		check       func(body string) error // every row must pass
	}{
		{"by action", "action=token.issue", 2, onlyActions("token.issue")},
		{"by action prefix", "action=token.*", 3, onlyActions("token.issue", "token.revoke")},
		{"by actor", "actor=bruno", 1, onlyActions("token.issue")},
		{"by outcome", "outcome=denied", 1, onlyActions("authz.denied")},
		{"by project", "app_id=1002", 2, onlyActions("project.create", "token.issue")},
		{"by fingerprint", "token=" + fmt.Sprintf("%x", fingerprintOf(fx.traced.Token)), 2, onlyActions("token.issue", "token.revoke")},
		{"by free text", "q=henry", 3, onlyActions("token.issue", "token.revoke")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := e.Get(t, c, "/audit?"+tt.query)
			if status != http.StatusOK {
				t.Fatalf("GET /audit?%s: got %d, want 200:\n%s", tt.query, status, body)
			}
			if rows := auditRowsIn(body); len(rows) != tt.want {
				t.Fatalf("got %d rows %v, want %d", len(rows), rows, tt.want)
			}
			if err := tt.check(body); err != nil {
				t.Fatal(err)
			}
		})
	}

	// Find by pasted token: the token leaves the address bar for its fingerprint.
	res, err := c.Get(e.URL + "/audit?token=" + url.QueryEscape(fx.traced.Token))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	loc := res.Header.Get("Location")
	if res.StatusCode != http.StatusSeeOther || !strings.Contains(loc, "fingerprint="+fmt.Sprintf("%x", fingerprintOf(fx.traced.Token))) || strings.Contains(loc, "token=") {
		t.Fatalf("find by token: got %d to %q, want 303 to the fingerprint filter", res.StatusCode, loc)
	}
	_, body := e.Get(t, c, loc)
	if rows := auditRowsIn(body); len(rows) != 2 {
		t.Fatalf("events of the traced token: got %v, want its issue and revoke", rows)
	}
	requireNotInBody(t, "the audit page", body, fx.traced.Token)
	requireInBody(t, body, `data-testid="audit-export-csv"`, `data-testid="audit-export-ndjson"`, "Chain seq", "Request id", "User agent")

	for _, tt := range []struct{ query, want string }{
		{"outcome=maybe", "outcome: want success, denied or error"},
		{"token=not-a-token", "token: not a Token04"},
		{"from=yesterday", "from: want a time"},
		{"cursor=zzz", "bad cursor"},
	} {
		status, body := e.Get(t, c, "/audit?"+tt.query)
		if status != http.StatusBadRequest || !strings.Contains(body, tt.want) {
			t.Fatalf("GET /audit?%s: got %d, want 400 with %q", tt.query, status, tt.want)
		}
		requireInBody(t, body, `data-testid="audit-error"`, `data-testid="audit-filter"`)
	}
}

// onlyActions checks that every row of the page has one of actions.
func onlyActions(actions ...string) func(string) error {
	return func(body string) error {
		for _, r := range auditRowsIn(body) {
			if !strings.Contains(" "+strings.Join(actions, " ")+" ", " "+r.Action+" ") {
				return fmt.Errorf("row %s has action %s, want one of %v", r.ID, r.Action, actions)
			}
		}
		return nil
	}
}

var auditNextRe = regexp.MustCompile(`href="([^"]+)"[^>]*data-testid="audit-next"`)

func TestAuditPage_PagesNewestFirstWithoutDuplicates(t *testing.T) {
	t.Parallel()
	e := webtest.NewEnv(t)
	for i := range 130 {
		if err := e.Store.Audit(t.Context(), store.Event{Actor: webtest.AdminActor, Action: "test.filler", Outcome: store.OutcomeSuccess,
			TargetType: "n", TargetID: fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
	}
	c := e.SignIn(t, "audrey", store.RoleAuditor)
	seen, last := map[string]bool{}, int64(1<<62)
	path, pages := "/audit?action=test.filler", 0
	for path != "" {
		status, body := e.Get(t, c, path)
		if status != http.StatusOK {
			t.Fatalf("GET %s: got %d, want 200", path, status)
		}
		pages++
		for _, r := range auditRowsIn(body) {
			var id int64
			fmt.Sscan(r.ID, &id)
			if seen[r.ID] || id >= last {
				t.Fatalf("event %s repeated or out of order (after %d)", r.ID, last)
			}
			seen[r.ID], last = true, id
		}
		path = ""
		if m := auditNextRe.FindStringSubmatch(body); m != nil {
			path = strings.ReplaceAll(m[1], "&amp;", "&")
			requireInBody(t, path, "action=test.filler", "cursor=")
		}
	}
	if len(seen) != 130 || pages != 3 {
		t.Fatalf("got %d events on %d pages, want 130 on 3", len(seen), pages)
	}
}

func TestAuditExport_StreamsTheFilterAndIsAudited(t *testing.T) {
	t.Parallel()
	fx := newAuditFixture(t)
	e, c := fx.e, fx.c
	want := e.Count(t, `SELECT count(*) FROM audit_events WHERE action LIKE 'token.%'`)

	res, err := c.Get(e.URL + "/audit/export?format=csv&action=token.*")
	if err != nil {
		t.Fatal(err)
	}
	records, err := csv.NewReader(res.Body).ReadAll()
	res.Body.Close()
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("CSV export: status %d, err %v", res.StatusCode, err)
	}
	if cd := res.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment;") || !strings.Contains(cd, ".csv") {
		t.Fatalf("Content-Disposition: got %q, want an attachment .csv", cd)
	}
	if len(records) != want+1 || records[0][5] != "action" {
		t.Fatalf("CSV: got %d lines (header %v), want a header and %d events", len(records), records[0], want)
	}
	for _, r := range records[1:] {
		if !strings.HasPrefix(r[5], "token.") {
			t.Fatalf("CSV row with action %q outside the filter", r[5])
		}
	}

	// The export is audited once its first batch is read, so the file holds
	// the events there were before it.
	wantNDJSON := e.Count(t, `SELECT count(*) FROM audit_events WHERE app_id = 1002`)
	res, err = c.Get(e.URL + "/audit/export?format=ndjson&app_id=1002")
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(res.Body)
	n := 0
	for dec.More() {
		var ev struct {
			Action string `json:"action"`
			AppID  *int64 `json:"app_id"`
		}
		if err := dec.Decode(&ev); err != nil {
			t.Fatalf("NDJSON line %d: %v", n+1, err)
		}
		if ev.AppID == nil || *ev.AppID != 1002 {
			t.Fatalf("NDJSON event %s outside app 1002", ev.Action)
		}
		n++
	}
	res.Body.Close()
	if ct := res.Header.Get("Content-Type"); ct != "application/x-ndjson" || n != wantNDJSON {
		t.Fatalf("NDJSON: got %d events as %q, want %d as application/x-ndjson", n, ct, wantNDJSON)
	}
	if n := e.Count(t, `SELECT count(*) FROM audit_events WHERE action = 'audit.export' AND actor_name = 'audrey'
		AND details->'filter'->>'action' = 'token.*' AND details->>'format' = 'csv'`); n != 1 {
		t.Fatalf("audit.export events of the CSV export: got %d, want 1", n)
	}

	for _, q := range []string{"format=xml", "format=csv&outcome=maybe"} {
		if status, _ := e.Get(t, c, "/audit/export?"+q); status != http.StatusBadRequest {
			t.Fatalf("GET /audit/export?%s: got %d, want 400", q, status)
		}
	}
}

func TestAuditPage_VerifyNowShowsTheResult(t *testing.T) {
	t.Parallel()
	fx := newAuditFixture(t)
	e, c := fx.e, fx.c
	_, body := e.Get(t, c, "/audit")
	requireInBody(t, body, `data-ok="never"`, "events waiting to be sealed", `data-testid="audit-verify"`)

	e.SealAudit(t)
	res, _ := e.Post(t, c, "/audit/verify", url.Values{})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/audit?notice=verified" {
		t.Fatalf("verify: got %d to %q, want 303 to /audit?notice=verified", res.StatusCode, res.Header.Get("Location"))
	}
	_, body = e.Get(t, c, "/audit?notice=verified")
	requireInBody(t, body, `data-testid="audit-integrity-badge" data-ok="true"`, "Chain OK", "Audit trail verified.")
	if n := e.Count(t, `SELECT count(*) FROM audit_events WHERE action = 'audit.verify' AND details->>'ok' = 'true'`); n != 1 {
		t.Fatalf("audit.verify events: got %d, want 1", n)
	}
}

func TestAuditExport_MovesAPastedTokenOutOfTheURL(t *testing.T) {
	t.Parallel()
	e := webtest.NewEnv(t)
	c := e.SignIn(t, "audra", store.RoleAuditor)
	const tok = "04AAAAAGsLXDgADAHfnT0A0MePwjJwYwDO"
	res, err := c.Get(e.URL + "/audit/export?format=csv&token=" + url.QueryEscape(tok))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	loc := res.Header.Get("Location")
	if res.StatusCode != http.StatusSeeOther || strings.Contains(loc, tok[2:]) || !strings.Contains(loc, "fingerprint=") || !strings.Contains(loc, "format=csv") {
		t.Fatalf("got %d to %q, want 303 to the same export by fingerprint", res.StatusCode, loc)
	}
}
