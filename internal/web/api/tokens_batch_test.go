package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/token04"
	"github.com/zegocloud-console/console/internal/web/webtest"
)

const batchPath = "/api/v1/projects/1001/tokens/batch"

// batchOf is a batch body of the given entries.
func batchOf(entries ...any) []byte {
	b, _ := json.Marshal(map[string]any{"tokens": append([]any{}, entries...)})
	return b
}

// postBatch sends a batch body with extra headers.
func (a *apiEnv) postBatch(t *testing.T, key string, body []byte, header http.Header) apiResponse {
	t.Helper()
	return a.callWith(t, http.MethodPost, batchPath, key, "application/json", body, header)
}

// wantIssuedFor stops the test unless tokens are, in order, tokens of
// project 1001 for users, each with its record and one token.issue event.
func (a *apiEnv) wantIssuedFor(t *testing.T, tokens []issuedToken, users ...string) {
	t.Helper()
	if len(tokens) != len(users) {
		t.Fatalf("tokens: got %d, want %d", len(tokens), len(users))
	}
	for i, tok := range tokens {
		a.remember(tok.Token)
		d, err := token04.Decode(tok.Token, []byte(webtest.TestSecret), token04.DecodeOptions{ExpectAppID: 1001})
		if err != nil || d.Claims.UserID != users[i] || tok.UserID != users[i] {
			t.Fatalf("token %d: got %s (claims %+v, %v), want one for %s", i, tok.UserID, d.Claims, err, users[i])
		}
		if n := a.Count(t, `SELECT count(*) FROM issued_tokens WHERE id = $1 AND channel = 'api'`, tok.ID); n != 1 {
			t.Errorf("records of token %d: got %d, want 1", i, n)
		}
		if n := a.Count(t, `SELECT count(*) FROM audit_events WHERE action = 'token.issue' AND target_id = $1`, tok.ID); n != 1 {
			t.Errorf("token.issue events of token %d: got %d, want 1", i, n)
		}
	}
}

func TestAPIIssueBatch_EachUserGetsATokenWithItsOwnRoomPrivilegesAndTTLInTheOrderAsked(t *testing.T) {
	t.Parallel()
	a := newAPIEnv(t)
	a.CreateProject(t, 1001)
	key := a.key(t, []string{store.ScopeIssue}, 1001)
	res := a.postBatch(t, key, batchOf(
		map[string]any{"user_id": "teacher", "room_id": "class-1", "privileges": []string{"login", "publish"}, "ttl_seconds": 7200},
		map[string]any{"user_id": "student-1", "room_id": "class-1", "privileges": []string{"login"}, "ttl_seconds": 3600},
		map[string]any{"user_id": "student-2", "mode": "cbc"},
	), nil)
	if res.status != http.StatusCreated || res.header.Get("Content-Type") != "application/json" {
		t.Fatalf("got %d %q (%s), want 201 application/json", res.status, res.header.Get("Content-Type"), res.body)
	}
	var out struct{ Tokens []issuedToken }
	res.decode(t, &out)
	a.wantIssuedFor(t, out.Tokens, "teacher", "student-1", "student-2")
	teacher, student, other := out.Tokens[0], out.Tokens[1], out.Tokens[2]
	if *teacher.RoomID != "class-1" || !slices.Equal(teacher.Privileges, []string{"login", "publish"}) ||
		teacher.ExpiresAt.Sub(teacher.IssuedAt).Seconds() != 7200 {
		t.Errorf("teacher: got %+v", teacher)
	}
	if !slices.Equal(student.Privileges, []string{"login"}) || student.ExpiresAt.Sub(student.IssuedAt).Seconds() != 3600 {
		t.Errorf("student-1: got %+v", student)
	}
	if other.Mode != "cbc" || other.RoomID != nil {
		t.Errorf("student-2: got %+v", other)
	}
	if res.header.Get("RateLimit") == "" {
		t.Error("got no RateLimit field")
	}
}

func TestAPIIssueBatch_AnswersOneTokenPerLineWhenNDJSONIsAsked(t *testing.T) {
	t.Parallel()
	a := newAPIEnv(t)
	a.CreateProject(t, 1001)
	key := a.key(t, []string{store.ScopeIssue}, 1001)
	var entries []any
	var users []string
	for i := range 50 {
		users = append(users, fmt.Sprintf("viewer-%02d", i))
		entries = append(entries, map[string]any{"user_id": users[i]})
	}
	res := a.postBatch(t, key, batchOf(entries...), http.Header{"Accept": {"application/x-ndjson"}})
	if res.status != http.StatusCreated || res.header.Get("Content-Type") != "application/x-ndjson" {
		t.Fatalf("got %d %q (%s), want 201 application/x-ndjson", res.status, res.header.Get("Content-Type"), res.body)
	}
	var tokens []issuedToken
	for _, line := range bytes.Split(bytes.TrimSuffix(res.body, []byte("\n")), []byte("\n")) {
		var tok issuedToken
		if err := json.Unmarshal(line, &tok); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		tokens = append(tokens, tok)
	}
	a.wantIssuedFor(t, tokens, users...)
}

func TestAPIIssueBatch_AnInvalidEntryIssuesNothingAndTheAnswerNamesEachEntryAndField(t *testing.T) {
	t.Parallel()
	a := newAPIEnv(t)
	a.CreateProject(t, 1001)
	key := a.key(t, []string{store.ScopeIssue}, 1001)
	p := a.postBatch(t, key, batchOf(
		map[string]any{"user_id": "ok"},
		map[string]any{"user_id": ""},
		map[string]any{"user_id": "greedy", "ttl_seconds": 999999999},
		map[string]any{"user_id": "dancer", "privileges": []string{"dance"}},
	), nil).wantProblem(t, http.StatusUnprocessableEntity, "validation")
	want := []string{"tokens[1].user_id", "tokens[2].ttl_seconds", "tokens[3].privileges"}
	if got := slices.Sorted(maps.Keys(p.Errors)); !slices.Equal(got, want) {
		t.Errorf("fields at fault: got %v, want %v", p.Errors, want)
	}
	p = a.postBatch(t, key, batchOf(
		map[string]any{"user_id": 5},
		map[string]any{"user_id": "a", "colour": "red"},
		7,
	), nil).wantProblem(t, http.StatusBadRequest, "unknown-field")
	want = []string{"tokens[0].user_id", "tokens[1].colour", "tokens[2]"}
	if got := slices.Sorted(maps.Keys(p.Errors)); !slices.Equal(got, want) {
		t.Errorf("fields at fault: got %v, want %v", p.Errors, want)
	}
	a.postBatch(t, key, batchOf(), nil).wantProblem(t, http.StatusUnprocessableEntity, "validation")
	entries := make([]any, store.MaxBatchTokens+1)
	for i := range entries {
		entries[i] = map[string]any{"user_id": "u"}
	}
	if p := a.postBatch(t, key, batchOf(entries...), nil).wantProblem(t, http.StatusUnprocessableEntity, "validation"); !strings.Contains(p.Errors["tokens"], "1000") {
		t.Errorf("1001 tokens: got errors %v, want one on tokens saying 1000", p.Errors)
	}
	if n := a.Count(t, `SELECT count(*) FROM issued_tokens`); n != 0 {
		t.Errorf("token records: got %d, want 0", n)
	}
	if n := a.Count(t, `SELECT count(*) FROM audit_events WHERE action = 'token.issue'`); n != 0 {
		t.Errorf("token.issue events: got %d, want 0", n)
	}
}

func TestAPIIssueBatch_ARetryWithItsIdempotencyKeyGetsTheSameTokensInTheFormatItAsks(t *testing.T) {
	t.Parallel()
	a := newAPIEnv(t)
	a.CreateProject(t, 1001)
	key := a.key(t, []string{store.ScopeIssue}, 1001)
	body := batchOf(map[string]any{"user_id": "alice"}, map[string]any{"user_id": "bob"})
	first := a.postBatch(t, key, body, http.Header{"Idempotency-Key": {"class-42"}})
	if first.status != http.StatusCreated {
		t.Fatalf("first: got %d (%s)", first.status, first.body)
	}
	var out struct{ Tokens []issuedToken }
	first.decode(t, &out)
	a.wantIssuedFor(t, out.Tokens, "alice", "bob")
	again := a.postBatch(t, key, body, http.Header{"Idempotency-Key": {"class-42"}, "Accept": {"application/x-ndjson"}})
	if again.status != http.StatusCreated || again.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("retry: got %d, Idempotent-Replayed %q (%s)", again.status, again.header.Get("Idempotent-Replayed"), again.body)
	}
	lines := bytes.Split(bytes.TrimSpace(again.body), []byte("\n"))
	if len(lines) != len(out.Tokens) {
		t.Fatalf("retry: got %d lines, want %d", len(lines), len(out.Tokens))
	}
	for i, line := range lines {
		var tok issuedToken
		if err := json.Unmarshal(line, &tok); err != nil || tok.Token != out.Tokens[i].Token {
			t.Fatalf("retry line %d: got %s (%v), want the first answer's token", i, line, err)
		}
	}
	if n := a.Count(t, `SELECT count(*) FROM issued_tokens`); n != 2 {
		t.Errorf("token records: got %d, want 2", n)
	}
	other := batchOf(map[string]any{"user_id": "mallory"})
	a.postBatch(t, key, other, http.Header{"Idempotency-Key": {"class-42"}}).wantProblem(t, http.StatusUnprocessableEntity, "idempotency-key-reused")
}

func TestAPIIssueBatch_NeedsTheIssueScopeOnTheProject(t *testing.T) {
	t.Parallel()
	a := newAPIEnv(t)
	a.CreateProject(t, 1001)
	a.CreateProject(t, 1002)
	body := batchOf(map[string]any{"user_id": "alice"})
	a.postBatch(t, a.key(t, []string{store.ScopeIntrospect}, 1001), body, nil).wantProblem(t, http.StatusForbidden, "forbidden")
	a.postBatch(t, a.key(t, []string{store.ScopeIssue}, 1002), body, nil).wantProblem(t, http.StatusForbidden, "forbidden")
	if n := a.Count(t, `SELECT count(*) FROM audit_events WHERE action = 'authz.denied'`); n != 2 {
		t.Errorf("authz.denied events: got %d, want 2", n)
	}
}
