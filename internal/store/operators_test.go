package store

import (
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

func TestCreateOperator_StoresAndAudits(t *testing.T) {
	t.Parallel()
	e := setup(t).withAdmin(t)
	op, err := e.st.CreateOperator(e.ctx, OperatorInput{Username: "bob.ops", DisplayName: "Bob",
		Role: RoleOperator, Password: "bob's long password"}, e.actor, peopleOrigin)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if op.ID == 0 || op.Username != "bob.ops" || op.DisplayName != "Bob" || op.Role != RoleOperator || op.Disabled {
		t.Fatalf("got %+v, want enabled operator bob.ops named Bob", op)
	}
	got, err := e.st.OperatorByID(e.ctx, op.ID)
	if err != nil || !reflect.DeepEqual(got, op) {
		t.Fatalf("by id: got %+v, %v, want %+v", got, err, op)
	}
	events := e.auditEvents(t, "operator.create")
	if len(events) != 2 { // root, then bob
		t.Fatalf("got %d operator.create events, want 2", len(events))
	}
	ev := events[1]
	if ev.ActorName != "root" || ev.ActorType != ActorOperator || ev.TargetID != strconv.FormatInt(op.ID, 10) ||
		ev.Details["role"] != RoleOperator || ev.ClientIP != peopleOrigin.ClientIP {
		t.Fatalf("got event %+v, want root creating operator %d", ev, op.ID)
	}
	if hits := e.rowsContaining(t, "bob's long password"); len(hits) > 0 {
		t.Fatalf("password found in %v", hits)
	}
	list, err := e.st.ListOperators(e.ctx)
	if err != nil || len(list) != 2 || list[0].Username != "bob.ops" || list[1].Username != "root" {
		t.Fatalf("list: got %+v, %v, want bob.ops and root", list, err)
	}
}

func TestCreateOperator_RejectsBadInput(t *testing.T) {
	t.Parallel()
	e := setup(t).withAdmin(t)
	ok := OperatorInput{Username: "carol", Role: RoleAuditor, Password: "carol password"}
	tests := []struct {
		name  string
		edit  func(in *OperatorInput)
		field string
	}{
		{"duplicate username", func(in *OperatorInput) { in.Username = "root" }, "username"},
		{"empty username", func(in *OperatorInput) { in.Username = "" }, "username"},
		{"username with space", func(in *OperatorInput) { in.Username = "car ol" }, "username"},
		{"username too long", func(in *OperatorInput) { in.Username = strings.Repeat("c", 65) }, "username"},
		{"display name too long", func(in *OperatorInput) { in.DisplayName = strings.Repeat("é", 101) }, "display_name"},
		{"username with NUL", func(in *OperatorInput) { in.Username = "carol\x00" }, "username"},
		{"username not utf-8", func(in *OperatorInput) { in.Username = "car\xffol" }, "username"},
		{"display name with NUL", func(in *OperatorInput) { in.DisplayName = "a\x00b" }, "display_name"},
		{"display name not utf-8", func(in *OperatorInput) { in.DisplayName = "a\xffb" }, "display_name"},
		{"unknown role", func(in *OperatorInput) { in.Role = "root" }, "role"},
		{"short password", func(in *OperatorInput) { in.Password = "short" }, "password"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := ok
			tt.edit(&in)
			_, err := e.st.CreateOperator(e.ctx, in, e.actor, peopleOrigin)
			wantField(t, err, tt.field)
		})
	}
	if got := e.queryInt(t, `SELECT count(*) FROM operators`); got != 1 {
		t.Fatalf("got %d operators, want 1", got)
	}
	if got := len(e.auditEvents(t, "operator.create")); got != 1 {
		t.Fatalf("got %d operator.create events, want 1", got)
	}
}

func TestOperatorByID_NotFound(t *testing.T) {
	t.Parallel()
	e := setup(t).withAdmin(t)
	if _, err := e.st.OperatorByID(e.ctx, 999); !errors.Is(err, ErrOperatorNotFound) {
		t.Fatalf("got %v, want ErrOperatorNotFound", err)
	}
}

func TestSetOperatorRole_AuditsFromAndTo(t *testing.T) {
	t.Parallel()
	e := setup(t).withAdmin(t)
	bob := e.createOperator(t, "bob", RoleOperator, "bob password 1")
	op, err := e.st.SetOperatorRole(e.ctx, bob.ID, RoleAuditor, e.actor, peopleOrigin)
	if err != nil || op.Role != RoleAuditor {
		t.Fatalf("got %+v, %v, want role auditor", op, err)
	}
	events := e.auditEvents(t, "operator.role_change")
	if len(events) != 1 || events[0].Details["from"] != RoleOperator || events[0].Details["to"] != RoleAuditor {
		t.Fatalf("got events %+v, want one from operator to auditor", events)
	}
	if _, err := e.st.SetOperatorRole(e.ctx, bob.ID, "superuser", e.actor, peopleOrigin); err == nil {
		t.Fatal("got nil error for an unknown role")
	}
	if _, err := e.st.SetOperatorRole(e.ctx, 999, RoleAdmin, e.actor, peopleOrigin); !errors.Is(err, ErrOperatorNotFound) {
		t.Fatalf("got %v, want ErrOperatorNotFound", err)
	}
}

func TestOperatorLastAdmin_CannotBeDemotedOrDisabled(t *testing.T) {
	t.Parallel()
	e := setup(t).withAdmin(t)
	_, err := e.st.SetOperatorRole(e.ctx, e.admin.ID, RoleOperator, e.actor, peopleOrigin)
	wantField(t, err, "role")
	_, err = e.st.SetOperatorDisabled(e.ctx, e.admin.ID, true, e.actor, peopleOrigin)
	wantField(t, err, "disabled")

	// With a second admin, one of the two may go; then the other is the last.
	second := e.createOperator(t, "second", RoleAdmin, "second password")
	if _, err := e.st.SetOperatorRole(e.ctx, e.admin.ID, RoleOperator, e.actor, peopleOrigin); err != nil {
		t.Fatalf("demote root with a second admin: %v", err)
	}
	_, err = e.st.SetOperatorDisabled(e.ctx, second.ID, true, e.actor, peopleOrigin)
	wantField(t, err, "disabled")
	if got := e.queryInt(t, `SELECT count(*) FROM operators WHERE role = 'admin' AND NOT disabled`); got != 1 {
		t.Fatalf("got %d enabled admins, want 1", got)
	}
}

func TestSetOperatorDisabled_EndsSessionsAndAudits(t *testing.T) {
	t.Parallel()
	e := setup(t).withAdmin(t)
	bob := e.createOperator(t, "bob", RoleOperator, "bob password 1")
	raw, err := e.st.CreateSession(e.ctx, bob.ID, 3600e9)
	if err != nil {
		t.Fatal(err)
	}
	op, err := e.st.SetOperatorDisabled(e.ctx, bob.ID, true, e.actor, peopleOrigin)
	if err != nil || !op.Disabled {
		t.Fatalf("disable: got %+v, %v", op, err)
	}
	if _, err := e.st.LookupSession(e.ctx, raw, 0); !errors.Is(err, ErrSessionNotFound) {
		t.Fatalf("session after disable: got %v, want ErrSessionNotFound", err)
	}
	if got := e.queryInt(t, `SELECT count(*) FROM web_sessions WHERE operator_id = $1`, bob.ID); got != 0 {
		t.Fatalf("got %d sessions, want 0", got)
	}
	if _, err := e.st.SetOperatorDisabled(e.ctx, bob.ID, true, e.actor, peopleOrigin); err != nil {
		t.Fatalf("disable again: %v", err)
	}
	if op, err = e.st.SetOperatorDisabled(e.ctx, bob.ID, false, e.actor, peopleOrigin); err != nil || op.Disabled {
		t.Fatalf("enable: got %+v, %v", op, err)
	}
	disables, enables := e.auditEvents(t, "operator.disable"), e.auditEvents(t, "operator.enable")
	if len(disables) != 1 || len(enables) != 1 || disables[0].ActorName != "root" {
		t.Fatalf("got %d disable and %d enable events, want 1 and 1 by root", len(disables), len(enables))
	}
}

func TestResetOperatorPassword_ReplacesPasswordAndEndsSessions(t *testing.T) {
	t.Parallel()
	e := setup(t).withAdmin(t)
	bob := e.createOperator(t, "bob", RoleOperator, "bob password 1")
	raw, err := e.st.CreateSession(e.ctx, bob.ID, 3600e9)
	if err != nil {
		t.Fatal(err)
	}
	err = e.st.ResetOperatorPassword(e.ctx, bob.ID, "short", e.actor, peopleOrigin)
	wantField(t, err, "password")
	if err := e.st.ResetOperatorPassword(e.ctx, bob.ID, "bob password 2", e.actor, peopleOrigin); err != nil {
		t.Fatalf("reset: %v", err)
	}
	if _, err := e.st.LookupSession(e.ctx, raw, 0); !errors.Is(err, ErrSessionNotFound) {
		t.Fatalf("session after reset: got %v, want ErrSessionNotFound", err)
	}
	if _, err := e.st.Authenticate(e.ctx, "bob", "bob password 1", peopleOrigin); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("old password: got %v, want ErrBadCredentials", err)
	}
	if _, err := e.st.Authenticate(e.ctx, "bob", "bob password 2", peopleOrigin); err != nil {
		t.Fatalf("new password: %v", err)
	}
	if got := len(e.auditEvents(t, "operator.password_reset")); got != 1 {
		t.Fatalf("got %d password_reset events, want 1", got)
	}
	if hits := e.rowsContaining(t, "bob password 2"); len(hits) > 0 {
		t.Fatalf("password found in %v", hits)
	}
	if err := e.st.ResetOperatorPassword(e.ctx, 999, "long enough pw", e.actor, peopleOrigin); !errors.Is(err, ErrOperatorNotFound) {
		t.Fatalf("unknown operator: got %v, want ErrOperatorNotFound", err)
	}
}

func TestOperatorEnsureAdmin_CreatesOnlyOnEmptyDatabase(t *testing.T) {
	t.Parallel()
	env := setup(t)
	a, b := env.st, env.open(t)
	_, err := a.EnsureAdmin(t.Context(), "admin", "short", false)
	wantField(t, err, "password")

	results := make(chan error, 2)
	created := make(chan bool, 2)
	for _, s := range []*Store{a, b} {
		go func() {
			c, err := s.EnsureAdmin(t.Context(), "admin", "first admin password", false)
			created <- c
			results <- err
		}()
	}
	n := 0
	for range 2 {
		if err := <-results; err != nil {
			t.Fatalf("ensure admin: %v", err)
		}
		if <-created {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("got %d creations, want 1", n)
	}
	events := env.auditEvents(t, "operator.create")
	if len(events) != 1 || events[0].ActorType != ActorSystem {
		t.Fatalf("got events %+v, want one by the system", events)
	}
	list, err := a.ListOperators(t.Context())
	if err != nil || len(list) != 1 || list[0].Role != RoleAdmin {
		t.Fatalf("got %+v, %v, want one admin", list, err)
	}
	if c, err := a.EnsureAdmin(t.Context(), "other", "another admin password", false); c || err != nil {
		t.Fatalf("second call: got %v, %v, want false, nil", c, err)
	}
}

func TestOperatorLastAdmin_ConcurrentDemotionsLeaveOneAdmin(t *testing.T) {
	t.Parallel()
	e := setup(t).withAdmin(t)
	second := e.createOperator(t, "second", RoleAdmin, "second password")
	for round := range 5 {
		ids := []int64{e.admin.ID, second.ID}
		errs := make(chan error, 2)
		for _, id := range ids {
			go func() {
				_, err := e.st.SetOperatorRole(e.ctx, id, RoleOperator, e.actor, peopleOrigin)
				errs <- err
			}()
		}
		failed := 0
		for range 2 {
			if err := <-errs; err != nil {
				wantField(t, err, "role")
				failed++
			}
		}
		if failed != 1 {
			t.Fatalf("round %d: got %d refusals, want 1", round, failed)
		}
		if got := e.queryInt(t, `SELECT count(*) FROM operators WHERE role = 'admin' AND NOT disabled`); got != 1 {
			t.Fatalf("round %d: got %d enabled admins, want 1", round, got)
		}
		if _, err := e.st.pool.Exec(e.ctx, `UPDATE operators SET role = 'admin'`); err != nil {
			t.Fatal(err)
		}
	}
}
