package store

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/zegocloud-console/console/internal/token04"
)

// observed records what an Observer was told. With each count it notes how
// many matching records another connection could see at that moment: that
// they are all there shows the action had committed.
type observed struct {
	mu          sync.Mutex
	issued      []string
	revoked     []string
	auditWrites int
}

// observe makes the bundle's store report to a fresh recorder.
func (b bundle) observe(t *testing.T) *observed {
	t.Helper()
	o := &observed{}
	b.st.Observe(Observer{
		AuditWrite: func(time.Duration) {
			o.mu.Lock()
			defer o.mu.Unlock()
			o.auditWrites++
		},
		TokensIssued: func(appID int64, channel string, n int) {
			visible := b.queryInt(t, `SELECT count(*) FROM issued_tokens`)
			o.mu.Lock()
			defer o.mu.Unlock()
			o.issued = append(o.issued, fmt.Sprintf("app %d via %s: %d (%d in the table)", appID, channel, n, visible))
		},
		TokensRevoked: func(appID int64, n int64) {
			visible := b.queryInt(t, `SELECT count(*) FROM issued_tokens WHERE revoked_at IS NOT NULL`)
			o.mu.Lock()
			defer o.mu.Unlock()
			o.revoked = append(o.revoked, fmt.Sprintf("app %d: %d (%d revoked in the table)", appID, n, visible))
		},
	})
	return o
}

func TestObserve_TokensIssuedOnceTheRecordHasCommitted(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.createProject(t, 42)
	o := b.observe(t)
	issue(t, b, IssueRequest{AppID: 42, UserID: "u", Channel: ChannelAPI})
	issue(t, b, IssueRequest{AppID: 42, UserID: "v", Channel: ChannelUI})
	if _, err := b.st.IssueToken(b.ctx, IssueRequest{AppID: 42, Channel: ChannelAPI, Actor: testActor}); err == nil {
		t.Fatal("issue without a user: got no error")
	}
	want := []string{"app 42 via api: 1 (1 in the table)", "app 42 via ui: 1 (2 in the table)"}
	if !slices.Equal(o.issued, want) {
		t.Fatalf("got TokensIssued calls %q, want %q", o.issued, want)
	}
	if o.auditWrites != 2 {
		t.Fatalf("got %d audit writes, want 2", o.auditWrites)
	}
}

func TestObserve_TokensRevokedCountsOnlyWhatACommittedRevocationChanged(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.createProject(t, 42)
	byID := issue(t, b, IssueRequest{AppID: 42, UserID: "u"})
	pasted := issue(t, b, IssueRequest{AppID: 42, UserID: "v"})
	issue(t, b, IssueRequest{AppID: 42, UserID: "w"})
	issue(t, b, IssueRequest{AppID: 42, UserID: "w"})
	o := b.observe(t)
	fp := token04.FingerprintSum(pasted.Token)
	check := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	for range 2 { // the second time, each finds the tokens revoked already
		_, err := b.st.RevokeToken(b.ctx, 42, byID.Record.ID, "", testActor, testOrigin)
		check("revoke by id", err)
	}
	for range 2 {
		_, err := b.st.RevokeByFingerprint(b.ctx, fp[:], "", nil, testActor, testOrigin)
		check("revoke by fingerprint", err)
	}
	for range 2 {
		_, err := b.st.RevokeUserTokens(b.ctx, 42, "w", "", testActor, testOrigin)
		check("revoke user w", err)
	}
	if _, err := b.st.RevokeUserTokens(b.ctx, 42, "u\x00", "", testActor, testOrigin); err == nil {
		t.Fatal("revoke user with a NUL: got no error")
	}
	want := []string{
		"app 42: 1 (1 revoked in the table)", // by id; the second time it was revoked already
		"app 42: 1 (2 revoked in the table)", // by fingerprint, likewise
		"app 42: 2 (4 revoked in the table)", // both of w's tokens
		"app 42: 0 (4 revoked in the table)", // none left: revoke-user reports its count, 0 too
	}
	if !slices.Equal(o.revoked, want) {
		t.Fatalf("got TokensRevoked calls %q, want %q", o.revoked, want)
	}
}

func TestObserve_NilFunctionsAreSkipped(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.createProject(t, 42)
	b.st.Observe(Observer{})
	it := issue(t, b, IssueRequest{AppID: 42, UserID: "u"})
	if _, err := b.st.RevokeToken(b.ctx, 42, it.Record.ID, "", testActor, testOrigin); err != nil {
		t.Fatalf("revoke: %v", err)
	}
}

func TestIssueToken_ReturnsTheProjectItWasIssuedFor(t *testing.T) {
	t.Parallel()
	b := setup(t)
	want := b.createProject(t, 42)
	it := issue(t, b, IssueRequest{AppID: 42, UserID: "u"})
	if it.Project.ID != want.ID || it.Project.AppID != 42 || it.Project.Name != want.Name ||
		it.Project.SecretVersion != 1 || it.Project.MaxTTLSeconds != want.MaxTTLSeconds {
		t.Fatalf("got project %+v, want %+v", it.Project, want)
	}
}
