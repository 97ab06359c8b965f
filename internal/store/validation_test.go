package store

import (
	"strings"
	"testing"
	"time"

	"github.com/zegocloud-console/console/internal/token04"
)

// PostgreSQL text holds neither NUL nor invalid UTF-8: every text a store
// call accepts is checked first, so that such input is a field error (422 in
// the API) rather than a failed statement (500). Issuing, operators and API
// keys are covered by TestIssueToken_RejectsBadRequestsAndChangesNothing,
// TestCreateOperator_RejectsBadInput and TestCreateAPIKey_RejectsBadInput.

// wantNotRevoked stops the test unless rec's token is still active and no
// event of action was written.
func (b bundle) wantNotRevoked(t *testing.T, rec TokenRecord, action string) {
	t.Helper()
	if got, err := b.st.TokenByID(b.ctx, uint32(rec.AppID), rec.ID); err != nil || got.RevokedAt != nil {
		t.Fatalf("got %+v, %v; want the token still active", got, err)
	}
	if n := b.queryInt(t, `SELECT count(*) FROM audit_events WHERE action = $1`, action); n != 0 {
		t.Fatalf("got %d %s events, want 0", n, action)
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
			if n.Revoked != 0 {
				t.Fatalf("got %d revoked, want 0", n.Revoked)
			}
		})
	}
	b.wantNotRevoked(t, it.Record, "token.revoke_user")
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
	b.wantNotRevoked(t, it.Record, "token.revoke")
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
