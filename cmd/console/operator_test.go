package main

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/zegocloud-console/console/internal/store"
)

func TestOperatorCLI_UnlockLetsTheOwnerInAtOnce(t *testing.T) {
	t.Parallel()
	a := setupAdminCLI(t)
	const password = "bob's long passphrase"
	bob, err := a.st.CreateOperator(t.Context(), store.OperatorInput{Username: "bob", Role: store.RoleOperator, Password: password}, cliActor, store.Origin{})
	if err != nil {
		t.Fatal(err)
	}
	// A console whose clock stands still: the account's delay never passes by itself.
	frozen := time.Now()
	console, err := store.Open(t.Context(), a.environ["DATABASE_URL"], a.st.Keys(), store.WithLoginClock(func() time.Time { return frozen }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(console.Close)
	for i := range 8 {
		from := store.Origin{ClientIP: fmt.Sprintf("203.0.113.%d", i+1)}
		_, _ = console.Authenticate(t.Context(), "bob", "a wrong guess", from)
	}
	owner := store.Origin{ClientIP: "198.51.100.7"}
	if _, err := console.Authenticate(t.Context(), "bob", password, owner); !errors.Is(err, store.ErrLoginThrottled) {
		t.Fatalf("before unlock: got %v, want ErrLoginThrottled", err)
	}

	r := a.run(t, "", "operator", "unlock", "bob")
	if r.code != 0 || !strings.Contains(r.stdout, "unlocked operator bob: cleared 5 failed sign-ins") {
		t.Fatalf("unlock: got exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if _, err := console.Authenticate(t.Context(), "bob", password, owner); err != nil {
		t.Fatalf("after unlock: %v", err)
	}
	var actor, target, username string
	var cleared int
	if err := a.st.Pool().QueryRow(t.Context(), `SELECT actor_type, target_id, details->>'username', (details->>'cleared')::int
		FROM audit_events WHERE action = 'operator.unlock'`).Scan(&actor, &target, &username, &cleared); err != nil {
		t.Fatalf("operator.unlock event: %v", err)
	}
	if actor != store.ActorCLI || target != fmt.Sprint(bob.ID) || username != "bob" || cleared != 5 {
		t.Fatalf("operator.unlock: got actor %s, target %s, username %s, cleared %d; want cli, %d, bob, 5", actor, target, username, cleared, bob.ID)
	}
}

func TestOperatorCLI_UnlockRefusesBadInput(t *testing.T) {
	t.Parallel()
	a := setupAdminCLI(t)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"unlock"}, 2, "NAME"},
		{[]string{"unlock", "a", "b"}, 2, "NAME"},
		{[]string{"unlock", "nobody"}, 1, "no operator named nobody"},
		{[]string{"lock", "bob"}, 2, "unknown subcommand"},
	} {
		r := a.run(t, "", append([]string{"operator"}, tc.args...)...)
		if r.code != tc.code || !strings.Contains(r.stderr, tc.want) || r.stdout != "" {
			t.Errorf("%v: got exit %d, stdout %q, stderr %q; want %d mentioning %q", tc.args, r.code, r.stdout, r.stderr, tc.code, tc.want)
		}
	}
	var n int
	if err := a.st.Pool().QueryRow(t.Context(), `SELECT count(*) FROM audit_events WHERE action = 'operator.unlock'`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("got %d operator.unlock events (%v), want none", n, err)
	}
}

func TestOperatorCLI_ResetMFARemovesEveryFactorOfSomeoneWhoLostThem(t *testing.T) {
	t.Parallel()
	a := setupAdminCLI(t)
	bob, err := a.st.CreateOperator(t.Context(), store.OperatorInput{Username: "bob", Role: store.RoleOperator, Password: "bob's long passphrase"}, cliActor, store.Origin{})
	if err != nil {
		t.Fatal(err)
	}
	en, err := a.st.BeginTOTP(t.Context(), bob)
	if err != nil {
		t.Fatal(err)
	}
	code, err := totp.GenerateCode(en.Secret, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.st.ConfirmTOTP(t.Context(), bob, code, cliActor, store.Origin{}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.st.CreateSession(t.Context(), bob.ID, time.Hour); err != nil {
		t.Fatal(err)
	}

	r := a.run(t, "", "operator", "reset-mfa", "bob")
	if r.code != 0 || !strings.Contains(r.stdout, "reset operator bob: removed 1 second factors") {
		t.Fatalf("reset-mfa: got exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	var left int
	if err := a.st.Pool().QueryRow(t.Context(), `SELECT (SELECT count(*) FROM operator_totp) + (SELECT count(*) FROM operator_recovery_codes)
		+ (SELECT count(*) FROM web_sessions WHERE operator_id = $1)`, bob.ID).Scan(&left); err != nil || left != 0 {
		t.Fatalf("after reset-mfa: %d factors, codes or sessions left (%v), want none", left, err)
	}
	var actor, totps string
	if err := a.st.Pool().QueryRow(t.Context(), `SELECT actor_type, details->>'totp' FROM audit_events WHERE action = 'mfa.reset'`).Scan(&actor, &totps); err != nil {
		t.Fatalf("mfa.reset event: %v", err)
	}
	if actor != store.ActorCLI || totps != "1" {
		t.Errorf("mfa.reset: got actor %s, totp %s; want cli, 1", actor, totps)
	}
	r = a.run(t, "", "operator", "reset-mfa", "nobody")
	if r.code != 1 || !strings.Contains(r.stderr, "no operator named nobody") {
		t.Errorf("reset-mfa nobody: got exit %d, stderr %q", r.code, r.stderr)
	}
}
