package store

import (
	"strings"
	"testing"
	"time"

	"github.com/zegocloud-console/console/internal/token04"
)

// PostgreSQL text holds neither NUL nor invalid UTF-8: every text a store
// call accepts is checked first, so that such input is a field error (422 in
// the API) rather than a failed statement (500).

func TestIssueToken_RefusesNULAndInvalidUTF8AsFieldErrors(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.createProject(t, 42)
	for _, tc := range []struct {
		name  string
		edit  func(r *IssueRequest)
		field string
	}{
		{"NUL in user_id", func(r *IssueRequest) { r.UserID = "u\x00" }, "user_id"},
		{"NUL in room_id", func(r *IssueRequest) { r.RoomID = "room\x00" }, "room_id"},
		{"invalid UTF-8 in room_id", func(r *IssueRequest) { r.RoomID = "room\xff" }, "room_id"},
		{"NUL in a stream id", func(r *IssueRequest) { r.StreamIDs = []string{"s1", "s\x002"} }, "stream_ids"},
		{"invalid UTF-8 in a stream id", func(r *IssueRequest) { r.StreamIDs = []string{"s\xfe"} }, "stream_ids"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := IssueRequest{AppID: 42, UserID: "u", Channel: ChannelAPI, Actor: testActor}
			tc.edit(&r)
			it, err := b.st.IssueToken(b.ctx, r)
			wantField(t, err, tc.field)
			if it.Token != "" {
				t.Fatalf("got token %q with an error", it.Token)
			}
		})
	}
	if n := b.queryInt(t, `SELECT count(*) FROM issued_tokens`) + b.queryInt(t, `SELECT count(*) FROM audit_events WHERE action = 'token.issue'`); n != 0 {
		t.Fatalf("rows after refused requests: got %d, want 0", n)
	}
}

func TestRevokeUserTokens_RefusesAUserIDOver64Bytes(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.createProject(t, 42)
	long := strings.Repeat("u", token04.MaxUserIDLength+1)
	_, err := b.st.RevokeUserTokens(b.ctx, 42, long, "", testActor, testOrigin)
	wantField(t, err, "user_id")
	if got, want := FieldErrors(err)["user_id"], "must be at most 64 bytes (got 65)"; got != want {
		t.Errorf("got message %q, want %q, as when issuing", got, want)
	}
}

func TestRevokeUserTokens_ChecksTheUserIDAndReasonLikeIssuing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.createProject(t, 42)
	it := issue(t, b, IssueRequest{AppID: 42, UserID: "u"})
	for _, tc := range []struct {
		name, userID, reason, field string
	}{
		{"empty user_id", "", "", "user_id"},
		{"invalid UTF-8 in user_id", "u\xff", "", "user_id"},
		{"NUL in user_id", "u\x00", "", "user_id"},
		{"NUL in reason", "u", "left\x00", "reason"},
		{"invalid UTF-8 in reason", "u", "left\xff", "reason"},
		{"reason over 500 characters", "u", strings.Repeat("é", 501), "reason"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, err := b.st.RevokeUserTokens(b.ctx, 42, tc.userID, tc.reason, testActor, testOrigin)
			wantField(t, err, tc.field)
			if n != 0 {
				t.Fatalf("got %d revoked, want 0", n)
			}
		})
	}
	if rec, err := b.st.TokenByID(b.ctx, 42, it.Record.ID); err != nil || rec.RevokedAt != nil {
		t.Fatalf("got %+v, %v; want the token still active", rec, err)
	}
	if n := b.queryInt(t, `SELECT count(*) FROM audit_events WHERE action = 'token.revoke_user'`); n != 0 {
		t.Fatalf("got %d token.revoke_user events, want 0", n)
	}
}

func TestRevoke_RefusesNULAndInvalidUTF8InTheReason(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.createProject(t, 42)
	it := issue(t, b, IssueRequest{AppID: 42, UserID: "u"})
	fp := token04.FingerprintSum(it.Token)
	for _, reason := range []string{"bye\x00", "bye\xff"} {
		_, err := b.st.RevokeToken(b.ctx, 42, it.Record.ID, reason, testActor, testOrigin)
		wantField(t, err, "reason")
		_, err = b.st.RevokeByFingerprint(b.ctx, fp[:], reason, nil, testActor, testOrigin)
		wantField(t, err, "reason")
	}
	if rec, err := b.st.TokenByID(b.ctx, 42, it.Record.ID); err != nil || rec.RevokedAt != nil {
		t.Fatalf("got %+v, %v; want the token still active", rec, err)
	}
	if n := b.queryInt(t, `SELECT count(*) FROM audit_events WHERE action = 'token.revoke'`); n != 0 {
		t.Fatalf("got %d token.revoke events, want 0", n)
	}
}

func TestListTokens_RefusesNULAndInvalidUTF8InFilters(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, tc := range []struct {
		f     TokenFilter
		field string
	}{
		{TokenFilter{UserID: "u\x00"}, "user_id"},
		{TokenFilter{RoomID: "r\xff"}, "room_id"},
		{TokenFilter{IssuedBy: "alice\x00"}, "issued_by"},
	} {
		_, err := b.st.ListTokens(b.ctx, tc.f, "", 10)
		wantField(t, err, tc.field)
	}
}

func TestProjects_RefuseNULAndInvalidUTF8InNameAndEnvironment(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.createProject(t, 42)
	ok := ProjectInput{Name: "Demo", AppID: 43, Environment: "test", DefaultTTL: time.Hour, MaxTTL: 24 * time.Hour}
	for _, tc := range []struct {
		name  string
		edit  func(in *ProjectInput)
		field string
	}{
		{"NUL in name", func(in *ProjectInput) { in.Name = "Demo\x00" }, "name"},
		{"invalid UTF-8 in name", func(in *ProjectInput) { in.Name = "Demo\xff" }, "name"},
		{"NUL in environment", func(in *ProjectInput) { in.Environment = "test\x00" }, "environment"},
		{"invalid UTF-8 in environment", func(in *ProjectInput) { in.Environment = "t\xffst" }, "environment"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := ok
			tc.edit(&in)
			_, err := b.st.CreateProject(b.ctx, in, []byte(testSecret), testActor, testOrigin)
			wantField(t, err, tc.field)
			_, err = b.st.UpdateProject(b.ctx, 42, in, testActor, testOrigin)
			wantField(t, err, tc.field)
		})
	}
	if p, err := b.st.ProjectByAppID(b.ctx, 42); err != nil || p.Name != "Demo" || p.Environment != "test" {
		t.Fatalf("got %+v, %v; want project 42 unchanged", p, err)
	}
	if n := b.queryInt(t, `SELECT count(*) FROM projects`); n != 1 {
		t.Fatalf("got %d projects, want 1", n)
	}
}

func TestCreateOperator_RefusesNULAndInvalidUTF8(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, tc := range []struct {
		in    OperatorInput
		field string
	}{
		{OperatorInput{Username: "bob\x00", DisplayName: "Bob"}, "username"},
		{OperatorInput{Username: "b\xffb", DisplayName: "Bob"}, "username"},
		{OperatorInput{Username: "bob", DisplayName: "Bob\x00"}, "display_name"},
		{OperatorInput{Username: "bob", DisplayName: "B\xffb"}, "display_name"},
	} {
		tc.in.Role, tc.in.Password = RoleOperator, "a long enough password"
		_, err := b.st.CreateOperator(b.ctx, tc.in, peopleSystem, peopleOrigin)
		wantField(t, err, tc.field)
	}
	if n := b.queryInt(t, `SELECT count(*) FROM operators`); n != 0 {
		t.Fatalf("got %d operators, want 0", n)
	}
}

func TestCreateAPIKey_RefusesNULAndInvalidUTF8InTheName(t *testing.T) {
	t.Parallel()
	e := setup(t).withAdmin(t)
	e.insertProject(t, 1001)
	for _, name := range []string{"svc\x00", "svc\xff"} {
		raw, _, err := e.st.CreateAPIKey(e.ctx, APIKeyInput{Name: name, AppIDs: []uint32{1001}, Scopes: []string{ScopeIssue}},
			e.actor, peopleOrigin)
		wantField(t, err, "name")
		if raw != "" {
			t.Fatalf("got key %q with an error", raw)
		}
	}
	if n := e.queryInt(t, `SELECT count(*) FROM api_keys`); n != 0 {
		t.Fatalf("got %d keys, want 0", n)
	}
}
