package api_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/testclock"
	"github.com/zegocloud-console/console/internal/web"
	"github.com/zegocloud-console/console/internal/web/webtest"
)

// wellFormedUnknownKey looks like an API key but is none: refusing it takes
// a database lookup.
const wellFormedUnknownKey = "zc_abcdefgh_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

func TestAPIAuth_AFloodOfBadKeysFromOneAddressIsRefusedAndAuditedInBulk(t *testing.T) {
	t.Parallel()
	const burst = 5
	a := newAPIEnv(t, func(c *web.Config) { c.TrustProxy = true; c.UnauthRate = 0.0001; c.UnauthBurst = burst })
	a.CreateProject(t, 1001)
	key := a.key(t, allAPIScopes, 1001)
	flooder, bystander := webtest.FromAddress("203.0.113.66"), webtest.FromAddress("198.51.100.7")
	get := func(key string, from http.Header) apiResponse {
		t.Helper()
		return a.callWith(t, http.MethodGet, "/api/v1/projects", key, "", nil, from)
	}
	// A real key never spends the address's budget of refusals.
	for i := range 3 * burst {
		if res := get(key, flooder); res.status != http.StatusOK {
			t.Fatalf("real key, call %d: got %d (%s), want 200", i+1, res.status, res.body)
		}
	}

	statuses := map[int]int{}
	for range 200 {
		res := get(wellFormedUnknownKey, flooder)
		statuses[res.status]++
		if res.status == http.StatusTooManyRequests {
			res.wantProblem(t, http.StatusTooManyRequests, "rate-limited")
			if s, err := strconv.Atoi(res.header.Get("Retry-After")); err != nil || s < 1 {
				t.Fatalf("got Retry-After %q, want whole seconds ≥ 1", res.header.Get("Retry-After"))
			}
		}
	}
	if statuses[http.StatusUnauthorized] != burst || statuses[http.StatusTooManyRequests] != 200-burst {
		t.Errorf("200 bad keys from one address: got statuses %v, want %d × 401 then %d × 429", statuses, burst, 200-burst)
	}

	// Another address, and a real key from it, are not affected.
	get(wellFormedUnknownKey, bystander).wantProblem(t, http.StatusUnauthorized, "unauthorized")
	if res := get(key, bystander); res.status != http.StatusOK {
		t.Errorf("real key from another address: got %d (%s), want 200", res.status, res.body)
	}

	if err := a.Web.FlushRefusals(t.Context(), true); err != nil {
		t.Fatal(err)
	}
	rows := a.Count(t, `SELECT count(*) FROM audit_events WHERE action = 'authz.denied' AND client_ip = '203.0.113.66'`)
	refusals := a.Count(t, `SELECT coalesce(sum(coalesce((details->>'repeated')::int, 1)), 0) FROM audit_events
		WHERE action = 'authz.denied' AND client_ip = '203.0.113.66'`)
	if rows > burst+2 || refusals != 200 {
		t.Errorf("audit of the flood: got %d rows counting %d refusals, want at most %d rows counting 200", rows, refusals, burst+2)
	}
	var window string
	var repeated int
	if err := a.Store.Pool().QueryRow(t.Context(), `SELECT details->>'window', (details->>'repeated')::int FROM audit_events
		WHERE action = 'authz.denied' AND details ? 'repeated'`).Scan(&window, &repeated); err != nil || window != "1m" || repeated != 200-burst {
		t.Errorf("the aggregate event: got window %q, repeated %d (%v), want 1m, %d", window, repeated, err, 200-burst)
	}
	if n := a.Count(t, `SELECT count(*) FROM audit_events WHERE action = 'authz.denied' AND client_ip = '198.51.100.7'`); n != 1 {
		t.Errorf("refusals audited for the other address: got %d, want 1", n)
	}
	for _, ev := range a.events(t, "authz.denied") {
		if ev.ActorType != store.ActorAnonymous || strings.Contains(string(ev.Details), wellFormedUnknownKey) {
			t.Fatalf("got event %+v", ev)
		}
	}
}

func TestAPIAuth_ATallyThatCannotBeWrittenFailsTheRequestThatWritesIt(t *testing.T) {
	t.Parallel()
	clock := testclock.New(time.Now())
	a := newAPIEnv(t, func(c *web.Config) { c.TrustProxy = true; c.UnauthRate = 0.0001; c.UnauthBurst = 1; c.Now = clock.Now })
	flooder := webtest.FromAddress("203.0.113.66")
	get := func() apiResponse {
		t.Helper()
		return a.callWith(t, http.MethodGet, "/api/v1/projects", wellFormedUnknownKey, "", nil, flooder)
	}
	get().wantProblem(t, http.StatusUnauthorized, "unauthorized")
	for range 3 {
		get().wantProblem(t, http.StatusTooManyRequests, "rate-limited")
	}
	a.ExecAsOwner(t, `
		CREATE FUNCTION refuse_denials() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			IF NEW.action = 'authz.denied' THEN RAISE EXCEPTION 'audit refused'; END IF;
			RETURN NEW;
		END $$;
		CREATE TRIGGER refuse_denials BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION refuse_denials();`)
	clock.Advance(time.Minute) // the window of the three ended: the next refusal writes their tally
	get().wantProblem(t, http.StatusServiceUnavailable, "unavailable")
	if err := a.Web.FlushRefusals(t.Context(), true); err == nil {
		t.Fatal("flush while the audit trail refuses events: got nil, want an error")
	}
	a.ExecAsOwner(t, `DROP TRIGGER refuse_denials ON audit_events`)
	get().wantProblem(t, http.StatusTooManyRequests, "rate-limited")
	if err := a.Web.FlushRefusals(t.Context(), true); err != nil {
		t.Fatal(err)
	}
	if got := a.Count(t, `SELECT coalesce(sum(coalesce((details->>'repeated')::int, 1)), 0) FROM audit_events
		WHERE action = 'authz.denied'`); got != 6 {
		t.Errorf("refusals in the audit trail: got %d, want all 6", got)
	}
}

func TestAPIAuth_MoreConcurrentCallsWithARealKeyThanTheRefusalBudgetAreAllServed(t *testing.T) {
	t.Parallel()
	const burst, calls = 3, 8
	a := newAPIEnv(t, func(c *web.Config) { c.TrustProxy = true; c.UnauthRate = 0.0001; c.UnauthBurst = burst })
	a.CreateProject(t, 1001)
	key := a.key(t, allAPIScopes, 1001)
	// The key's first use records it (last_used_at): holding its row keeps
	// every call between admission and authentication at once.
	hold, err := a.Store.Pool().Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Rollback(context.WithoutCancel(t.Context())) //nolint:errcheck // no-op after commit
	if _, err := hold.Exec(t.Context(), `SELECT 1 FROM api_keys FOR UPDATE`); err != nil {
		t.Fatal(err)
	}
	statuses := make(chan int, calls)
	for range calls {
		go func() {
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, a.URL+"/api/v1/projects", nil)
			req.Header.Set("Authorization", "Bearer "+key)
			req.Header.Set("X-Forwarded-For", "203.0.113.66")
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				statuses <- 0
				return
			}
			res.Body.Close()
			statuses <- res.StatusCode
		}()
	}
	// Wait until every call either waits for the held row or has answered.
	deadline := time.Now().Add(10 * time.Second)
	for {
		var waiting int
		if err := a.Store.Pool().QueryRow(t.Context(), `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting+len(statuses) >= calls {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 10 s: %d calls wait, %d answered, want all %d", waiting, len(statuses), calls)
		}
	}
	if err := hold.Commit(t.Context()); err != nil {
		t.Fatal(err)
	}
	got := map[int]int{}
	for range calls {
		got[<-statuses]++
	}
	if got[http.StatusOK] != calls {
		t.Errorf("%d concurrent calls with a real key from one address (refusal budget %d): got statuses %v, want %d × 200", calls, burst, got, calls)
	}
	if res := a.callWith(t, http.MethodGet, "/api/v1/projects", key, "", nil, webtest.FromAddress("203.0.113.66")); res.status != http.StatusOK {
		t.Errorf("a real key afterwards: got %d (%s), want 200", res.status, res.body)
	}
}
