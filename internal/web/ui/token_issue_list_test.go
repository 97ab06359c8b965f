package ui_test

import (
	"encoding/csv"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/token04"
	"github.com/zegocloud-console/console/internal/web/webtest"
)

// listFormValues is a valid "Issue for a list" form for project 1001 with
// the pasted users.
func listFormValues(users string) url.Values {
	return url.Values{"app_id": {"1001"}, "users": {users}, "ttl": {"3600"}, "room_id": {"class-7"},
		"login": {"1"}, "mode": {"gcm"}}
}

func TestIssueForAList_PastedAndUploadedUsersEachGetATokenInACSVDownloadedOnce(t *testing.T) {
	t.Parallel()
	e := webtest.NewEnv(t)
	e.CreateProject(t, 1001)
	c := e.SignIn(t, "olivia", store.RoleOperator)
	status, form := e.Get(t, c, "/issue/list?app_id=1001")
	if status != http.StatusOK {
		t.Fatalf("GET /issue/list: got %d, want 200", status)
	}
	requireInBody(t, form, `enctype="multipart/form-data"`, `data-testid="issue-list-users"`, `data-testid="issue-list-file"`,
		`data-testid="issue-list-submit"`, "downloaded this once")
	_, issuePage := e.Get(t, c, "/issue?app_id=1001")
	requireInBody(t, issuePage, `href="/issue/list?app_id=1001"`)

	res, body := e.SendMultipart(t, c, "/issue/list", listFormValues("user_id,name\nalice,Alice\n\n bob , Bob\n"),
		map[string]string{"users_file": "carol\r\ndave\r\n"})
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "text/csv; charset=utf-8" ||
		!strings.HasPrefix(res.Header.Get("Content-Disposition"), `attachment; filename="tokens-1001-`) ||
		res.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("POST /issue/list: got %d, %q, %q, %q, want 200, a CSV attachment, no-store:\n%.500s", res.StatusCode,
			res.Header.Get("Content-Type"), res.Header.Get("Content-Disposition"), res.Header.Get("Cache-Control"), body)
	}
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rows[0], []string{"user_id", "token", "expires_at", "room_id", "privileges", "token_id"}) {
		t.Fatalf("header: got %v", rows[0])
	}
	users := []string{"alice", "bob", "carol", "dave"}
	if len(rows) != 1+len(users) {
		t.Fatalf("rows: got %d, want a header and %d tokens:\n%s", len(rows), len(users), body)
	}
	var tokens []string
	for i, row := range rows[1:] {
		d, err := token04.Decode(row[1], []byte(webtest.TestSecret), token04.DecodeOptions{ExpectAppID: 1001})
		if err != nil || row[0] != users[i] || d.Claims.UserID != users[i] || row[3] != "class-7" || row[4] != "login" {
			t.Fatalf("row %d: got %v (claims %+v, %v), want a class-7 login token for %s", i+1, row, d.Claims, err, users[i])
		}
		if n := e.Count(t, `SELECT count(*) FROM issued_tokens WHERE id = $1 AND fingerprint = $2 AND channel = 'ui' AND issued_by_name = 'olivia'`,
			row[5], fingerprintOf(row[1])); n != 1 {
			t.Errorf("record of %s's token: got %d, want 1", users[i], n)
		}
		if n := e.Count(t, `SELECT count(*) FROM audit_events WHERE action = 'token.issue' AND token_fingerprint = $1`, fingerprintOf(row[1])); n != 1 {
			t.Errorf("token.issue events of %s's token: got %d, want 1", users[i], n)
		}
		tokens = append(tokens, row[1])
	}
	for _, path := range []string{"/tokens", "/audit", "/issue/list"} {
		_, page := e.Get(t, c, path)
		requireNotInBody(t, "GET "+path, page, tokens...)
	}
	requireNotInBody(t, "the server log", e.Logs.String(), tokens...)
}

func TestIssueForAList_AnyBadLineOrSettingIssuesNothingAndIsShownWhereItIs(t *testing.T) {
	t.Parallel()
	e := webtest.NewEnv(t)
	e.CreateProject(t, 1001)
	c := e.SignIn(t, "olivia", store.RoleOperator)
	long := strings.Repeat("x", 65)
	res, body := e.SendMultipart(t, c, "/issue/list", listFormValues("alice\n"+long+"\nbob\nalice"), nil)
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("duplicate: got %d, want 422:\n%s", res.StatusCode, body)
	}
	requireInBody(t, body, `data-testid="issue-list-lines"`, "line 4 (alice): already on line 1", long)

	res, body = e.SendMultipart(t, c, "/issue/list", listFormValues("alice\n"+long+"\nbob"), nil)
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("too long a user id: got %d, want 422:\n%s", res.StatusCode, body)
	}
	requireInBody(t, body, "line 2 ("+long+"): must be at most 64 bytes")

	v := listFormValues("alice\nbob")
	v.Set("ttl_custom", "86401")
	res, body = e.SendMultipart(t, c, "/issue/list", v, nil)
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("TTL above the policy: got %d, want 422:\n%s", res.StatusCode, body)
	}
	requireInBody(t, body, "must not exceed the project&#39;s maximum of 86400 seconds")

	res, body = e.SendMultipart(t, c, "/issue/list", listFormValues("user_id\n\n"), nil)
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("no user: got %d, want 422:\n%s", res.StatusCode, body)
	}
	requireInBody(t, body, "Enter at least one user id")
	if n := e.Count(t, `SELECT count(*) FROM issued_tokens`); n != 0 {
		t.Errorf("token records: got %d, want 0", n)
	}
}

func TestIssueForAList_IsForPeopleWhoMayIssueForTheProject(t *testing.T) {
	t.Parallel()
	e := webtest.NewEnv(t)
	e.CreateProject(t, 1001)
	auditor := e.SignIn(t, "audrey", store.RoleAuditor)
	res, _ := e.SendMultipart(t, auditor, "/issue/list", listFormValues("alice"), nil)
	if res.StatusCode != http.StatusForbidden && res.StatusCode != http.StatusNotFound {
		t.Errorf("an auditor: got %d, want 403 or 404", res.StatusCode)
	}
	if n := e.Count(t, `SELECT count(*) FROM issued_tokens`); n != 0 {
		t.Errorf("token records: got %d, want 0", n)
	}
}
