package api_test

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/zegocloud-console/console/internal/store"
)

// sendWithRequestID issues a token for user with the X-Request-Id header set
// to id and returns the response's X-Request-Id.
func (a *apiEnv) sendWithRequestID(t *testing.T, key, user, id string) string {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, a.URL+"/api/v1/projects/1001/tokens",
		bytes.NewReader([]byte(`{"user_id":"`+user+`"}`)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Request-Id", id)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	validateAgainstOpenAPI(t, req, res, body)
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("issue with X-Request-Id %q: got %d (%s), want 201", id, res.StatusCode, body)
	}
	return res.Header.Get("X-Request-Id")
}

func TestRequestID_AServiceTracesACallEndToEndWithItsOwnID(t *testing.T) {
	t.Parallel()
	a := newAPIEnv(t)
	a.CreateProject(t, 1001)
	key := a.key(t, []string{store.ScopeIssue}, 1001)
	const id = "svc-7.trace_0042"
	if got := a.sendWithRequestID(t, key, "alice", id); got != id {
		t.Fatalf("got X-Request-Id %q, want the client's %q echoed", got, id)
	}
	if n := a.Count(t, `SELECT count(*) FROM audit_events WHERE action = 'token.issue' AND request_id = '`+id+`'`); n != 1 {
		t.Fatalf("got %d token.issue events with request id %q, want 1", n, id)
	}
	if !strings.Contains(a.Logs.String(), `"request_id":"`+id+`"`) {
		t.Fatalf("the server's log line does not carry the client's request id %q", id)
	}
}

func TestRequestID_AnUnfitClientIDIsReplacedByTheConsolesOwn(t *testing.T) {
	t.Parallel()
	a := newAPIEnv(t)
	a.CreateProject(t, 1001)
	key := a.key(t, []string{store.ScopeIssue}, 1001)
	for _, id := range []string{strings.Repeat("a", 65), "has space", "semi;colon", `quote"`, "é", "a/b"} {
		got := a.sendWithRequestID(t, key, "bob", id)
		if got == id || len(got) != 16 {
			t.Errorf("X-Request-Id %q: got %q back, want a fresh 16-digit id of the console's", id, got)
		}
	}
}
