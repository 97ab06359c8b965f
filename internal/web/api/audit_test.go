package api_test

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/zegocloud-console/console/internal/store"
)

// auditPage is the API's page of audit events.
type auditPage struct {
	Events []struct {
		ID     int64   `json:"id"`
		Action string  `json:"action"`
		AppID  *uint32 `json:"app_id"`
	} `json:"events"`
	Next string `json:"next"`
}

func TestAPIAudit_PagesThroughTheKeysProjectNewestFirst(t *testing.T) {
	t.Parallel()
	a := newAPIEnv(t)
	a.CreateProject(t, 1001)
	a.CreateProject(t, 2002)
	key := a.key(t, allAPIScopes, 1001)
	other := a.key(t, allAPIScopes, 2002)
	for range 5 {
		a.issue(t, key, "1001", map[string]any{"user_id": "alice"})
	}
	a.issue(t, other, "2002", map[string]any{"user_id": "mallory"})

	var ids []int64
	cursor := ""
	for page := 0; ; page++ {
		q := url.Values{"action": {"token.issue"}, "limit": {"2"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		res := a.get(t, "/api/v1/audit?"+q.Encode(), key)
		if res.status != http.StatusOK {
			t.Fatalf("page %d: got %d (%s)", page, res.status, res.body)
		}
		var p auditPage
		res.decode(t, &p)
		for _, e := range p.Events {
			if e.Action != "token.issue" || e.AppID == nil || *e.AppID != 1001 {
				t.Fatalf("got event %+v, want token.issue of project 1001 only", e)
			}
			if len(ids) > 0 && e.ID >= ids[len(ids)-1] {
				t.Fatalf("events not newest first: %d after %d", e.ID, ids[len(ids)-1])
			}
			ids = append(ids, e.ID)
		}
		if p.Next == "" {
			break
		}
		cursor = p.Next
	}
	if len(ids) != 5 {
		t.Fatalf("got %d token.issue events over the pages, want 5", len(ids))
	}
}

func TestAPIAudit_KeyWithSeveralProjectsReadsOnlyItsOwn(t *testing.T) {
	t.Parallel()
	a := newAPIEnv(t)
	a.CreateProject(t, 1001)
	a.CreateProject(t, 2002)
	a.CreateProject(t, 3003)
	key := a.key(t, allAPIScopes, 1001, 2002)
	other := a.key(t, allAPIScopes, 3003)
	a.issue(t, key, "1001", map[string]any{"user_id": "alice"})
	a.issue(t, key, "2002", map[string]any{"user_id": "bob"})
	a.issue(t, other, "3003", map[string]any{"user_id": "carol"})

	appsIn := func(path string) map[uint32]int {
		var page auditPage
		a.get(t, path, key).decode(t, &page)
		seen := map[uint32]int{}
		for _, e := range page.Events {
			if e.AppID == nil {
				t.Fatalf("%s: got an event of no project: %+v", path, e)
			}
			seen[*e.AppID]++
		}
		return seen
	}
	if got := appsIn("/api/v1/audit?action=token.issue"); len(got) != 2 || got[1001] != 1 || got[2002] != 1 {
		t.Fatalf("without app_id: got events of %v, want one of 1001 and one of 2002, none of 3003", got)
	}
	if got := appsIn("/api/v1/audit?action=token.issue&app_id=2002"); len(got) != 1 || got[2002] != 1 {
		t.Fatalf("app_id=2002: got events of %v, want 2002 only", got)
	}
	a.get(t, "/api/v1/audit?app_id=3003", key).wantProblem(t, http.StatusForbidden, "forbidden")
}

func TestAPIAudit_ExportStreamsNDJSONAndCSVAndIsAudited(t *testing.T) {
	t.Parallel()
	a := newAPIEnv(t)
	a.CreateProject(t, 1001)
	key := a.key(t, allAPIScopes, 1001)
	for range 3 {
		a.issue(t, key, "1001", map[string]any{"user_id": "alice"})
	}
	doc, _ := openAPI()

	res := a.get(t, "/api/v1/audit/export?action=token.issue", key)
	if res.status != http.StatusOK || res.header.Get("Content-Type") != "application/x-ndjson" {
		t.Fatalf("ndjson: got %d %q (%s)", res.status, res.header.Get("Content-Type"), res.body)
	}
	if cd := res.header.Get("Content-Disposition"); !strings.HasPrefix(cd, `attachment; filename="audit-1001-`) || !strings.HasSuffix(cd, `.ndjson"`) {
		t.Fatalf("got Content-Disposition %q", cd)
	}
	lines := 0
	sc := bufio.NewScanner(bytes.NewReader(res.body))
	for sc.Scan() {
		lines++
		validateSchema(t, doc, "AuditEvent", sc.Bytes())
		var e struct{ Action string }
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil || e.Action != "token.issue" {
			t.Fatalf("line %d: %s (%v)", lines, sc.Bytes(), err)
		}
	}
	if lines != 3 {
		t.Fatalf("got %d NDJSON lines, want 3", lines)
	}

	res = a.get(t, "/api/v1/audit/export?format=csv&action=token.issue", key)
	if res.status != http.StatusOK || res.header.Get("Content-Type") != "text/csv; charset=utf-8" {
		t.Fatalf("csv: got %d %q", res.status, res.header.Get("Content-Type"))
	}
	rows, err := csv.NewReader(bytes.NewReader(res.body)).ReadAll()
	if err != nil || len(rows) != 4 || rows[0][0] != "id" {
		t.Fatalf("got %d CSV rows (%v), want a header and 3 events", len(rows), err)
	}

	var exports []store.AuditEvent
	for _, e := range a.events(t, "audit.export") {
		if e.ActorType == store.ActorAPIKey && e.AppID != nil && *e.AppID == 1001 {
			exports = append(exports, e)
		}
	}
	if len(exports) != 2 {
		t.Fatalf("got %d audit.export events, want 2", len(exports))
	}
}

func TestAPIAudit_RefusesARawTokenInTheURL(t *testing.T) {
	t.Parallel()
	a := newAPIEnv(t)
	a.CreateProject(t, 1001)
	key := a.key(t, allAPIScopes, 1001)
	p := a.get(t, "/api/v1/audit?token=04AAAAAGsLXDgADAHfnT0A0MePwjJwYwDO", key).wantProblem(t, http.StatusBadRequest, "bad-filter")
	if !strings.Contains(p.Errors["token"], "fingerprint") {
		t.Fatalf("got errors %v, want token refused with a pointer to fingerprint", p.Errors)
	}
}

func TestAuditList_LinkLeadsToTheNextPageAndACursorKeepsItsFilters(t *testing.T) {
	t.Parallel()
	a := newAPIEnv(t)
	a.CreateProject(t, 1001)
	key := a.key(t, allAPIScopes, 1001)
	for _, u := range []string{"a", "b", "c"} {
		a.post(t, "/api/v1/projects/1001/tokens", key, map[string]any{"user_id": u})
	}
	first := a.get(t, "/api/v1/audit?action=token.issue&limit=2", key)
	var page struct {
		Next string `json:"next"`
	}
	first.decode(t, &page)
	link := first.header.Get("Link")
	want := `</api/v1/audit?action=token.issue&cursor=` + page.Next + `&limit=2>; rel="next"`
	if page.Next == "" || link != want {
		t.Fatalf("got Link %q, want %q", link, want)
	}
	next := a.get(t, strings.TrimSuffix(strings.TrimPrefix(link, "<"), `>; rel="next"`), key)
	if next.status != http.StatusOK || next.header.Get("Link") != "" {
		t.Fatalf("following Link: got %d, Link %q; want the last page", next.status, next.header.Get("Link"))
	}
	other := a.get(t, "/api/v1/audit?action=token.revoke&limit=2&cursor="+page.Next, key)
	if p := other.wantProblem(t, http.StatusBadRequest, "bad-cursor"); p.Errors["cursor"] == "" {
		t.Fatalf("got errors %v, want one naming cursor", p.Errors)
	}
}
