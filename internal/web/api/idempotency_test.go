package api_test

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/zegocloud-console/console/internal/store"
)

const issuePath = "/api/v1/projects/1001/tokens"

// issueWithKey issues a token with an Idempotency-Key.
func (a *apiEnv) issueWithKey(t *testing.T, key, idemKey, body string) apiResponse {
	t.Helper()
	return a.callWith(t, http.MethodPost, issuePath, key, "application/json", []byte(body), http.Header{"Idempotency-Key": {idemKey}})
}

func TestIdempotencyKey_ARetryGetsTheFirstTokenAndIssuesNoOther(t *testing.T) {
	t.Parallel()
	a := newAPIEnv(t)
	a.CreateProject(t, 1001)
	key := a.key(t, []string{store.ScopeIssue}, 1001)

	first := a.issueWithKey(t, key, "order-42", `{"user_id":"alice","ttl_seconds":3600}`)
	// The same request again, spelled differently: same fields, other order and spacing.
	retry := a.issueWithKey(t, key, "order-42", `{ "ttl_seconds": 3600, "user_id": "alice" }`)
	if first.status != http.StatusCreated || retry.status != http.StatusCreated {
		t.Fatalf("got %d then %d (%s), want 201 twice", first.status, retry.status, retry.body)
	}
	var a1, a2 issuedToken
	first.decode(t, &a1)
	retry.decode(t, &a2)
	a.remember(a1.Token)
	if !bytes.Equal(first.body, retry.body) || a1.Token == "" {
		t.Fatalf("the retry got another answer:\n first %s\n retry %s", first.body, retry.body)
	}
	if got := retry.header.Get("Idempotent-Replayed"); got != "true" {
		t.Errorf("retry: got Idempotent-Replayed %q, want true", got)
	}
	if got := first.header.Get("Idempotent-Replayed"); got != "" {
		t.Errorf("first answer: got Idempotent-Replayed %q, want none", got)
	}
	if retry.header.Get("Location") != first.header.Get("Location") {
		t.Errorf("retry: got Location %q, want the first %q", retry.header.Get("Location"), first.header.Get("Location"))
	}
	if n := a.Count(t, `SELECT count(*) FROM issued_tokens`); n != 1 {
		t.Fatalf("got %d tokens issued, want 1", n)
	}
	if n := a.Count(t, `SELECT count(*) FROM audit_events WHERE action = 'api.idempotent_replay'`); n != 1 {
		t.Fatalf("got %d api.idempotent_replay events, want 1: a replayed token is handed out again", n)
	}
	var sealed []byte
	if err := a.Store.Pool().QueryRow(t.Context(), `SELECT sealed_body FROM idempotency_keys`).Scan(&sealed); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte(a1.Token)) || bytes.Contains(sealed, []byte(a1.ID)) {
		t.Fatalf("the kept answer holds the token or its id in plaintext")
	}
}

func TestIdempotencyKey_ReusedForAnotherRequestIs422AndIssuesNothing(t *testing.T) {
	t.Parallel()
	a := newAPIEnv(t)
	a.CreateProject(t, 1001)
	key := a.key(t, []string{store.ScopeIssue, store.ScopeRevoke}, 1001)
	if res := a.issueWithKey(t, key, "k1", `{"user_id":"alice"}`); res.status != http.StatusCreated {
		t.Fatalf("first: got %d (%s), want 201", res.status, res.body)
	}
	a.issueWithKey(t, key, "k1", `{"user_id":"bob"}`).wantProblem(t, http.StatusUnprocessableEntity, "idempotency-key-reused")
	a.callWith(t, http.MethodPost, "/api/v1/projects/1001/users/alice/revoke", key, "", nil,
		http.Header{"Idempotency-Key": {"k1"}}).wantProblem(t, http.StatusUnprocessableEntity, "idempotency-key-reused")
	if n := a.Count(t, `SELECT count(*) FROM issued_tokens`); n != 1 {
		t.Fatalf("got %d tokens, want 1", n)
	}
	if n := a.Count(t, `SELECT count(*) FROM issued_tokens WHERE revoked_at IS NOT NULL`); n != 0 {
		t.Fatalf("got %d revoked tokens, want none", n)
	}
}

func TestIdempotencyKey_IsPerAPIKey(t *testing.T) {
	t.Parallel()
	a := newAPIEnv(t)
	a.CreateProject(t, 1001)
	k1, k2 := a.key(t, []string{store.ScopeIssue}, 1001), a.key(t, []string{store.ScopeIssue}, 1001)
	for _, k := range []string{k1, k2} {
		if res := a.issueWithKey(t, k, "same", `{"user_id":"alice"}`); res.status != http.StatusCreated || res.header.Get("Idempotent-Replayed") != "" {
			t.Fatalf("got %d, replayed %q; want a fresh 201 for each API key", res.status, res.header.Get("Idempotent-Replayed"))
		}
	}
	if n := a.Count(t, `SELECT count(*) FROM issued_tokens`); n != 2 {
		t.Fatalf("got %d tokens, want 2", n)
	}
}

func TestIdempotencyKey_ARequestStillInFlightIs409(t *testing.T) {
	t.Parallel()
	a := newAPIEnv(t)
	a.CreateProject(t, 1001)
	key := a.key(t, []string{store.ScopeIssue}, 1001)
	// Hold the first request inside its transaction: its token insert waits
	// for an advisory lock this test holds.
	a.ExecAsOwner(t, `
		CREATE FUNCTION hold_issue() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN PERFORM pg_advisory_lock_shared(4242); PERFORM pg_advisory_unlock_shared(4242); RETURN NEW; END $$;
		CREATE TRIGGER hold_issue BEFORE INSERT ON issued_tokens FOR EACH ROW EXECUTE FUNCTION hold_issue();`)
	gate, err := pgx.Connect(t.Context(), a.DB.OwnerURL)
	if err != nil {
		t.Fatal(err)
	}
	defer gate.Close(context.WithoutCancel(t.Context()))
	if _, err := gate.Exec(t.Context(), `SELECT pg_advisory_lock(4242)`); err != nil {
		t.Fatal(err)
	}
	first := make(chan apiResponse, 1)
	go func() { first <- a.issueWithKey(t, key, "slow", `{"user_id":"alice"}`) }()
	deadline := time.Now().Add(10 * time.Second)
	for a.Count(t, `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = 4242 AND NOT granted`) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the first request never reached its token insert")
		}
		time.Sleep(10 * time.Millisecond) // polling a condition, with a deadline
	}
	a.issueWithKey(t, key, "slow", `{"user_id":"alice"}`).wantProblem(t, http.StatusConflict, "idempotency-key-in-use")
	if _, err := gate.Exec(t.Context(), `SELECT pg_advisory_unlock(4242)`); err != nil {
		t.Fatal(err)
	}
	if res := <-first; res.status != http.StatusCreated {
		t.Fatalf("first: got %d (%s), want 201 once released", res.status, res.body)
	}
	if res := a.issueWithKey(t, key, "slow", `{"user_id":"alice"}`); res.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("after the first finished: got %d, replayed %q; want its answer replayed", res.status, res.header.Get("Idempotent-Replayed"))
	}
}

func TestIdempotencyKey_AfterItsWindowTheKeyIsNewAndTheAnswerPurged(t *testing.T) {
	t.Parallel()
	a := newAPIEnv(t)
	a.CreateProject(t, 1001)
	key := a.key(t, []string{store.ScopeIssue}, 1001)
	a.issueWithKey(t, key, "old", `{"user_id":"alice"}`)
	a.ExecAsOwner(t, `UPDATE idempotency_keys SET expires_at = now() - interval '1 second'`)
	if res := a.issueWithKey(t, key, "old", `{"user_id":"bob"}`); res.status != http.StatusCreated || res.header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("got %d (%s), replayed %q; want a fresh 201: the window of the first is over", res.status, res.body, res.header.Get("Idempotent-Replayed"))
	}
	a.ExecAsOwner(t, `UPDATE idempotency_keys SET expires_at = now() - interval '1 second'`)
	if n, err := a.Store.PurgeIdempotencyKeys(t.Context()); err != nil || n != 1 {
		t.Fatalf("purge: got %d, %v; want 1 answer deleted", n, err)
	}
}

func TestIdempotencyKey_UserRevokeRetryAnswersTheFirstCount(t *testing.T) {
	t.Parallel()
	a := newAPIEnv(t)
	a.CreateProject(t, 1001)
	key := a.key(t, []string{store.ScopeIssue, store.ScopeRevoke}, 1001)
	a.post(t, issuePath, key, map[string]any{"user_id": "alice"})
	a.post(t, issuePath, key, map[string]any{"user_id": "alice"})
	revoke := func() apiResponse {
		return a.callWith(t, http.MethodPost, "/api/v1/projects/1001/users/alice/revoke", key, "application/json",
			[]byte(`{"reason":"left"}`), http.Header{"Idempotency-Key": {"offboard-alice"}})
	}
	first, retry := revoke(), revoke()
	if !strings.Contains(string(first.body), `"revoked":2`) || !bytes.Equal(first.body, retry.body) || retry.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("got %s then %s (replayed %q), want revoked 2 twice, the second replayed", first.body, retry.body, retry.header.Get("Idempotent-Replayed"))
	}
	if n := a.Count(t, `SELECT count(*) FROM audit_events WHERE action = 'token.revoke_user'`); n != 1 {
		t.Fatalf("got %d token.revoke_user events, want 1", n)
	}
}

func TestIdempotencyKey_AnUnfitKeyIsRefused(t *testing.T) {
	t.Parallel()
	a := newAPIEnv(t)
	a.CreateProject(t, 1001)
	key := a.key(t, []string{store.ScopeIssue}, 1001)
	for _, k := range []string{strings.Repeat("k", 256), "tab\there", "é"} {
		p := a.issueWithKey(t, key, k, `{"user_id":"alice"}`).wantProblem(t, http.StatusBadRequest, "bad-idempotency-key")
		if p.Errors["Idempotency-Key"] == "" {
			t.Errorf("%q: got errors %v, want one naming Idempotency-Key", k, p.Errors)
		}
	}
	if n := a.Count(t, `SELECT count(*) FROM issued_tokens`); n != 0 {
		t.Fatalf("got %d tokens, want none", n)
	}
}
