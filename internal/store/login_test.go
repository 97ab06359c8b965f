package store

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zegocloud-console/console/internal/testclock"
)

const bobPassword = "bob's secret passphrase"

func TestAuthenticate_Outcomes(t *testing.T) {
	t.Parallel()
	e := setup(t).withAdmin(t)
	bob := e.createOperator(t, "bob", RoleOperator, bobPassword)
	dave := e.createOperator(t, "dave", RoleOperator, "dave's passphrase")
	if _, err := e.st.SetOperatorDisabled(e.ctx, dave.ID, true, e.actor, peopleOrigin); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, user, pw string
		wantErr        error
		reason         string
	}{
		{"success", "bob", bobPassword, nil, ""},
		{"wrong password", "bob", "not bob's password", ErrBadCredentials, reasonBadPassword},
		{"unknown user", "mallory", bobPassword, ErrBadCredentials, reasonUnknownUser},
		{"disabled", "dave", "dave's passphrase", ErrBadCredentials, reasonDisabled},
		{"case differs", "BOB", bobPassword, ErrBadCredentials, reasonUnknownUser},
		{"username truncated to a real one", "bob\xff", bobPassword, ErrBadCredentials, reasonUnknownUser},
		{"empty", "", "", ErrBadCredentials, reasonUnknownUser},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(e.auditEvents(t, "auth.login_failed"))
			op, err := e.st.Authenticate(e.ctx, tt.user, tt.pw, peopleOrigin)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("got %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr == nil {
				if op.ID != bob.ID {
					t.Fatalf("got operator %d, want %d", op.ID, bob.ID)
				}
				return
			}
			if err != nil && strings.Contains(err.Error(), tt.pw) && tt.pw != "" {
				t.Fatalf("error %q contains the password", err)
			}
			failed := e.auditEvents(t, "auth.login_failed")
			if len(failed) != before+1 {
				t.Fatalf("got %d auth.login_failed events, want %d", len(failed), before+1)
			}
			ev := failed[len(failed)-1]
			wantActor := tt.user // a known name stays readable; anything else may be a password
			if tt.reason == reasonUnknownUser {
				wantActor = UnknownAccount
			}
			if ev.Outcome != OutcomeDenied || ev.ActorType != ActorAnonymous || ev.Details["reason"] != tt.reason ||
				ev.ActorName != wantActor {
				t.Fatalf("got event %+v, want denied anonymous %q with reason %s", ev, wantActor, tt.reason)
			}
		})
	}
	logins := e.auditEvents(t, "auth.login")
	if len(logins) != 1 || logins[0].ActorType != ActorOperator || logins[0].ActorName != "bob" {
		t.Fatalf("got auth.login events %+v, want one by bob", logins)
	}
	for _, pw := range []string{bobPassword, "not bob's password", "dave's passphrase"} {
		if hits := e.rowsContaining(t, pw); len(hits) > 0 {
			t.Fatalf("password %q found in %v", pw, hits)
		}
	}
}

func TestAuthenticate_UnknownUsernamesAreCountedByAKeyedHashOnly(t *testing.T) {
	t.Parallel()
	e := setup(t).withAdmin(t)
	const typed = "my-Secret-passphrase-42"
	for _, user := range []string{typed, typed, "someone-else", strings.Repeat("é", 40)} {
		if _, err := e.st.Authenticate(e.ctx, user, "whatever password", peopleOrigin); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("%s: got %v, want ErrBadCredentials", user, err)
		}
	}
	keys := e.queryInt(t, `SELECT count(DISTINCT username) FROM login_failures`)
	if keys != 3 {
		t.Fatalf("got %d distinct accounts in login_failures, want 3 (one per name typed)", keys)
	}
	plain := sha256.Sum256([]byte(typed))
	for _, needle := range []string{typed, "someone-else", "éé", hex.EncodeToString(plain[:8])} {
		if hits := e.rowsContaining(t, needle); len(hits) > 0 {
			t.Fatalf("%q found in %v", needle, hits)
		}
	}
	for _, ev := range e.auditEvents(t, "auth.login_failed") {
		if ev.ActorName != UnknownAccount || !strings.HasPrefix(ev.ActorID, "unknown:") {
			t.Fatalf("got actor %q (%q), want %q with a keyed hash", ev.ActorName, ev.ActorID, UnknownAccount)
		}
	}
}

func TestAuthenticate_ThrottlesAnAccountFromOneAddressAfterFiveFailures(t *testing.T) {
	t.Parallel()
	e := setup(t).withAdmin(t)
	e.createOperator(t, "bob", RoleOperator, bobPassword)
	for i := range 5 {
		if _, err := e.st.Authenticate(e.ctx, "bob", "wrong password!", peopleOrigin); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("failure %d: got %v, want ErrBadCredentials", i+1, err)
		}
	}
	for range 3 {
		_, err := e.st.Authenticate(e.ctx, "bob", bobPassword, peopleOrigin)
		var te *LoginThrottledError
		if !errors.As(err, &te) || !errors.Is(err, ErrLoginThrottled) {
			t.Fatalf("right password from the same address: got %v, want a LoginThrottledError", err)
		}
		if te.Limit != limitAccountIP || te.RetryAfter <= 14*time.Minute || te.RetryAfter > loginWindow {
			t.Fatalf("got limit %s, retry after %v; want %s, about %v", te.Limit, te.RetryAfter, limitAccountIP, loginWindow)
		}
	}
	if got := e.queryInt(t, `SELECT count(*) FROM login_failures WHERE username = 'bob'`); got != 5 {
		t.Fatalf("got %d recorded failures, want 5: throttled attempts are not failures", got)
	}
	failed := e.auditEvents(t, "auth.login_failed")
	if last := failed[len(failed)-1]; last.Details["reason"] != reasonThrottled || last.Details["limit"] != limitAccountIP || last.ActorName != "bob" {
		t.Fatalf("got last event %+v, want a throttled failure for bob", last)
	}
	// Another account from the same address is not affected.
	e.createOperator(t, "carol", RoleOperator, "carol passphrase")
	if _, err := e.st.Authenticate(e.ctx, "carol", "carol passphrase", peopleOrigin); err != nil {
		t.Fatalf("carol: %v", err)
	}
	if hits := e.rowsContaining(t, bobPassword); len(hits) > 0 {
		t.Fatalf("password found in %v", hits)
	}
}

func TestAuthenticate_AccountDelayGrowsWithFailuresFromAnywhereUpToItsCap(t *testing.T) {
	t.Parallel()
	clock := testclock.New(time.Now())
	e := setup(t, WithLoginClock(clock.Now), WithLoginDelay(time.Second, 3*time.Second)).withAdmin(t)
	e.createOperator(t, "bob", RoleOperator, bobPassword)
	addr := 0
	fresh := func() Origin { addr++; return Origin{ClientIP: fmt.Sprintf("198.51.100.%d", addr)} }
	for i := range 5 {
		if _, err := e.st.Authenticate(e.ctx, "bob", "wrong password!", fresh()); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("failure %d: got %v, want ErrBadCredentials", i+1, err)
		}
	}
	// After each failure the next attempt waits 1 s, then 2 s, then 3 s (the cap), 3 s.
	for _, delay := range []time.Duration{time.Second, 2 * time.Second, 3 * time.Second, 3 * time.Second} {
		clock.Advance(delay - time.Millisecond)
		_, err := e.st.Authenticate(e.ctx, "bob", bobPassword, fresh())
		var te *LoginThrottledError
		if !errors.As(err, &te) || te.Limit != limitAccount || te.RetryAfter != time.Millisecond {
			t.Fatalf("%v after the last failure: got %v, want the account limit with 1ms to wait", delay-time.Millisecond, err)
		}
		clock.Advance(time.Millisecond)
		if _, err := e.st.Authenticate(e.ctx, "bob", "wrong password!", fresh()); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("%v after the last failure: got %v, want ErrBadCredentials (a guess that was let through)", delay, err)
		}
	}
	clock.Advance(3 * time.Second)
	if _, err := e.st.Authenticate(e.ctx, "bob", bobPassword, fresh()); err != nil {
		t.Fatalf("right password from a clean address after the delay: %v", err)
	}
	// Signing in clears only the failures from the owner's address.
	if got := e.queryInt(t, `SELECT count(*) FROM login_failures WHERE username = 'bob'`); got != 9 {
		t.Fatalf("got %d recorded failures after the sign-in, want the 9 from other addresses", got)
	}
}

func TestAuthenticate_SuccessClearsTheFailuresOfItsAddressOnly(t *testing.T) {
	t.Parallel()
	e := setup(t).withAdmin(t)
	e.createOperator(t, "bob", RoleOperator, bobPassword)
	other := Origin{ClientIP: "192.0.2.200"}
	for _, o := range []Origin{peopleOrigin, peopleOrigin, peopleOrigin, other} {
		if _, err := e.st.Authenticate(e.ctx, "bob", "wrong password!", o); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("got %v, want ErrBadCredentials", err)
		}
	}
	if _, err := e.st.Authenticate(e.ctx, "bob", bobPassword, peopleOrigin); err != nil {
		t.Fatalf("success after 4 failures: %v", err)
	}
	if got := e.queryInt(t, `SELECT count(*) FROM login_failures WHERE username = 'bob' AND client_ip = $1`, other.ClientIP); got != 1 {
		t.Fatalf("got %d failures from the other address, want 1", got)
	}
	if got := e.queryInt(t, `SELECT count(*) FROM login_failures WHERE username = 'bob'`); got != 1 {
		t.Fatalf("got %d failures after success, want 1", got)
	}
}

func TestAuthenticate_ThrottlesAddressAfterTwentyFailures(t *testing.T) {
	t.Parallel()
	e := setup(t).withAdmin(t)
	e.createOperator(t, "bob", RoleOperator, bobPassword)
	for i := range 20 {
		user := fmt.Sprintf("guess%d", i%5) // four tries per name: below the account limit
		if _, err := e.st.Authenticate(e.ctx, user, "some password", peopleOrigin); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("failure %d: got %v, want ErrBadCredentials", i+1, err)
		}
	}
	if _, err := e.st.Authenticate(e.ctx, "bob", bobPassword, peopleOrigin); !errors.Is(err, ErrLoginThrottled) {
		t.Fatalf("from the throttled address: got %v, want ErrLoginThrottled", err)
	}
	if got := e.queryInt(t, `SELECT count(*) FROM login_failures WHERE client_ip = $1`, peopleOrigin.ClientIP); got != 20 {
		t.Fatalf("got %d failures recorded for the address, want 20: a throttled attempt is not a failure", got)
	}
	if _, err := e.st.Authenticate(e.ctx, "bob", bobPassword, Origin{ClientIP: "192.0.2.201"}); err != nil {
		t.Fatalf("from another address: %v", err)
	}
	if got := len(e.auditEvents(t, "auth.login_failed")); got != 21 {
		t.Fatalf("got %d auth.login_failed events, want 21", got)
	}
}

func TestLoginFailures_Purge(t *testing.T) {
	t.Parallel()
	e := setup(t).withAdmin(t)
	_, err := e.st.pool.Exec(e.ctx, `INSERT INTO login_failures (username, client_ip, at)
		VALUES ('old', '', now() - interval '2 days'), ('new', '', now())`)
	if err != nil {
		t.Fatal(err)
	}
	n, err := e.st.PurgeLoginFailures(e.ctx)
	if err != nil || n != 1 {
		t.Fatalf("got %d, %v, want 1, nil", n, err)
	}
}

func TestAuthenticate_ParallelGuessesAreThrottledLikeSequentialOnes(t *testing.T) {
	frozen := time.Now() // however long the guesses take, the account's delay has not passed
	e := setup(t, WithLoginClock(func() time.Time { return frozen })).withAdmin(t)
	e.createOperator(t, "carol", RoleOperator, "carol's password 1")
	const attempts = 16
	var wg sync.WaitGroup
	for i := range attempts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			origin := Origin{ClientIP: fmt.Sprintf("192.0.2.%d", i+1)} // one address each: only the account limit applies
			_, _ = e.st.Authenticate(e.ctx, "carol", "wrong password", origin)
		}()
	}
	wg.Wait()
	checked := 0
	for _, ev := range e.auditEvents(t, "auth.login_failed") {
		if ev.Details["reason"] == reasonBadPassword {
			checked++
		}
	}
	// Without counting in-flight attempts, all 16 would reach the password check.
	if checked != maxFailuresPerAccount {
		t.Fatalf("parallel guesses that reached the password check: got %d, want %d", checked, maxFailuresPerAccount)
	}
}

func TestAuthenticate_ParallelGuessesOnManyNamesFromOneAddressStayWithinTheAddressLimit(t *testing.T) {
	e := setup(t).withAdmin(t)
	const attempts = 40
	var wg sync.WaitGroup
	for i := range attempts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			user := fmt.Sprintf("guess%02d", i) // a name each: only the address limit applies
			_, _ = e.st.Authenticate(e.ctx, user, "some password", peopleOrigin)
		}()
	}
	wg.Wait()
	checked := 0
	for _, ev := range e.auditEvents(t, "auth.login_failed") {
		if ev.Details["reason"] != reasonThrottled {
			checked++
		}
	}
	// The per-account lock does not order attempts on different names: without
	// one per address, 23 to 31 of them reached the password check.
	if checked != maxFailuresPerIP {
		t.Fatalf("parallel guesses from one address that reached the password check: got %d, want %d", checked, maxFailuresPerIP)
	}
}
