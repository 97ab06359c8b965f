package store

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zegocloud-console/console/internal/token04"
)

func issue(t *testing.T, b bundle, r IssueRequest) IssuedToken {
	t.Helper()
	if r.Channel == "" {
		r.Channel = ChannelUI
	}
	if r.Actor.Type == "" {
		r.Actor = testActor
	}
	it, err := b.st.IssueToken(b.ctx, r)
	if err != nil {
		t.Fatalf("issue: %v", err)
	}
	return it
}

func TestIssueToken_DecodesWithProjectSecretAndKeepsOnlyTheRecord(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.createProject(t, 42)
	it := issue(t, b, IssueRequest{AppID: 42, UserID: "ü-user", TTL: 2 * time.Hour, RoomID: "room-1",
		Privileges: &Privileges{Login: true, Publish: true}, StreamIDs: []string{"s1"}, Mode: token04.ModeGCM})
	dec, err := token04.Decode(it.Token, []byte(testSecret), token04.DecodeOptions{ExpectAppID: 42})
	if err != nil {
		t.Fatalf("decode issued token: %v", err)
	}
	if dec.Claims.UserID != "ü-user" || dec.Claims.Expire-dec.Claims.CTime != 7200 || dec.Mode != token04.ModeGCM {
		t.Fatalf("claims: got %+v", dec)
	}
	p, err := token04.ParsePrivilege(dec.Claims.Payload)
	if err != nil || p.RoomID != "room-1" || !p.Login || !p.Publish || len(p.StreamIDs) != 1 {
		t.Fatalf("privilege: got %+v, %v", p, err)
	}
	fp := sha256.Sum256([]byte(it.Token))
	rec, err := b.st.TokenByFingerprint(b.ctx, fp[:])
	if err != nil || rec.ID != it.Record.ID || rec.UserID != "ü-user" || rec.Nonce != dec.Claims.Nonce {
		t.Fatalf("record: got %+v, %v", rec, err)
	}
	if n := b.queryInt(t, `SELECT count(*) FROM audit_events WHERE action = 'token.issue' AND target_id = $1 AND token_fingerprint = $2`, rec.ID, fp[:]); n != 1 {
		t.Fatalf("token.issue events: got %d, want 1", n)
	}
	if n := b.queryInt(t, `SELECT count(*) FROM issued_tokens t, audit_events a WHERE position($1 in row_to_json(t)::text || row_to_json(a)::text) > 0`, it.Token[2:40]); n != 0 {
		t.Fatal("the raw token is stored somewhere")
	}
}

func TestIssueToken_RejectsBadRequestsAndChangesNothing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.createProject(t, 42)
	if _, err := b.st.UpdateProject(b.ctx, 42, ProjectInput{Name: "Demo", Environment: "test", DefaultTTL: time.Hour, MaxTTL: 24 * time.Hour, PublishAllowed: false}, testActor, testOrigin); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		req   IssueRequest
		field string
	}{
		{"empty user", IssueRequest{AppID: 42}, "user_id"},
		{"user over 64 bytes", IssueRequest{AppID: 42, UserID: strings.Repeat("é", 33)}, "user_id"},
		{"user not utf-8", IssueRequest{AppID: 42, UserID: "\xff"}, "user_id"},
		{"ttl above policy", IssueRequest{AppID: 42, UserID: "u", TTL: 25 * time.Hour}, "ttl_seconds"},
		{"negative ttl", IssueRequest{AppID: 42, UserID: "u", TTL: -time.Second}, "ttl_seconds"},
		{"fractional ttl", IssueRequest{AppID: 42, UserID: "u", TTL: 1500 * time.Millisecond}, "ttl_seconds"},
		{"publish not allowed", IssueRequest{AppID: 42, UserID: "u", Privileges: &Privileges{Publish: true}}, "privileges"},
		{"empty stream id", IssueRequest{AppID: 42, UserID: "u", StreamIDs: []string{""}}, "stream_ids"},
		// PostgreSQL text holds neither NUL nor invalid UTF-8: a field error, not a failed statement.
		{"NUL in user", IssueRequest{AppID: 42, UserID: "u\x00"}, "user_id"},
		{"NUL in room", IssueRequest{AppID: 42, UserID: "u", RoomID: "room\x00"}, "room_id"},
		{"room not utf-8", IssueRequest{AppID: 42, UserID: "u", RoomID: "room\xff"}, "room_id"},
		{"NUL in a stream id", IssueRequest{AppID: 42, UserID: "u", StreamIDs: []string{"s1", "s\x002"}}, "stream_ids"},
		{"stream id not utf-8", IssueRequest{AppID: 42, UserID: "u", StreamIDs: []string{"s\xfe"}}, "stream_ids"},
		{"bad mode", IssueRequest{AppID: 42, UserID: "u", Mode: 7}, "mode"},
	}
	for _, c := range cases {
		c.req.Channel, c.req.Actor = ChannelAPI, testActor
		_, err := b.st.IssueToken(b.ctx, c.req)
		if FieldErrors(err)[c.field] == "" {
			t.Errorf("%s: got %v, want a field error on %s", c.name, err, c.field)
		}
	}
	if _, err := b.st.IssueToken(b.ctx, IssueRequest{AppID: 43, UserID: "u", Channel: ChannelAPI, Actor: testActor}); !errors.Is(err, ErrProjectNotFound) {
		t.Errorf("unknown project: got %v, want ErrProjectNotFound", err)
	}
	if err := b.st.SetProjectDisabled(b.ctx, 42, true, testActor, testOrigin); err != nil {
		t.Fatal(err)
	}
	if _, err := b.st.IssueToken(b.ctx, IssueRequest{AppID: 42, UserID: "u", Channel: ChannelAPI, Actor: testActor}); !errors.Is(err, ErrProjectDisabled) {
		t.Errorf("disabled project: got %v, want ErrProjectDisabled", err)
	}
	if n := b.queryInt(t, `SELECT count(*) FROM issued_tokens`) + b.queryInt(t, `SELECT count(*) FROM audit_events WHERE action = 'token.issue'`); n != 0 {
		t.Fatalf("rows after rejected requests: got %d, want 0", n)
	}
}

func TestIssueToken_FailingAuditInsertIssuesNothing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.createProject(t, 42)
	b.failAuditInserts(t, "token.issue")
	it, err := b.st.IssueToken(b.ctx, IssueRequest{AppID: 42, UserID: "u", Channel: ChannelUI, Actor: testActor})
	if err == nil || it.Token != "" {
		t.Fatalf("got token %q, err %v; want no token and an error", it.Token, err)
	}
	if n := b.queryInt(t, `SELECT count(*) FROM issued_tokens`); n != 0 {
		t.Fatalf("token records after failed audit: got %d, want 0", n)
	}
}

func TestIssueToken_ConcurrentIssuesAllRecordedOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.createProject(t, 42)
	var wg sync.WaitGroup
	tokens := make(chan string, 200)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 25; i++ {
				it, err := b.st.IssueToken(b.ctx, IssueRequest{AppID: 42, UserID: "u", Channel: ChannelAPI, Actor: testActor})
				if err != nil {
					t.Error(err)
					return
				}
				tokens <- it.Token
			}
		}()
	}
	wg.Wait()
	close(tokens)
	seen := map[string]bool{}
	for tok := range tokens {
		seen[tok] = true
	}
	if len(seen) != 200 || b.queryInt(t, `SELECT count(*) FROM issued_tokens`) != 200 || b.queryInt(t, `SELECT count(*) FROM audit_events WHERE action = 'token.issue'`) != 200 {
		t.Fatalf("distinct tokens %d; want 200 tokens, 200 records, 200 events", len(seen))
	}
}

func TestRevoke_ThenIntrospectSaysRevoked(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.createProject(t, 42)
	it := issue(t, b, IssueRequest{AppID: 42, UserID: "bob", RoomID: "r"})
	in, err := b.st.Introspect(b.ctx, it.Token, IntrospectOptions{Action: "token.introspect", Actor: testActor})
	if err != nil || !in.Active || !in.IssuedHere() || in.AppID != 42 || in.Privilege == nil || in.Privilege.RoomID != "r" {
		t.Fatalf("before revoke: got %+v, %v; want active, issued here", in, err)
	}
	for i := 0; i < 2; i++ { // revoking twice is not an error
		rec, err := b.st.RevokeToken(b.ctx, 42, it.Record.ID, "lost laptop", testActor, testOrigin)
		if err != nil || rec.RevokedAt == nil || *rec.RevokeReason != "lost laptop" || rec.JustRevoked != (i == 0) {
			t.Fatalf("revoke %d: got %+v, %v; want revoked, JustRevoked only the first time", i, rec, err)
		}
	}
	in, err = b.st.Introspect(b.ctx, it.Token, IntrospectOptions{})
	if err != nil || in.Active || !in.Revoked() || in.Reason != ReasonRevoked {
		t.Fatalf("after revoke: got active=%v revoked=%v reason=%q, %v", in.Active, in.Revoked(), in.Reason, err)
	}
	if n := b.queryInt(t, `SELECT count(*) FROM audit_events WHERE action = 'token.revoke' AND target_id = $1`, it.Record.ID); n != 2 {
		t.Fatalf("token.revoke events: got %d, want 2", n)
	}
}

func TestRevokeUserTokens_RevokesOnlyThatUsersActiveTokens(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.createProject(t, 42)
	for i := 0; i < 3; i++ {
		issue(t, b, IssueRequest{AppID: 42, UserID: "bob"})
	}
	other := issue(t, b, IssueRequest{AppID: 42, UserID: "carol"})
	n, err := b.st.RevokeUserTokens(b.ctx, 42, "bob", "", testActor, testOrigin)
	if err != nil || n.Revoked != 3 {
		t.Fatalf("got %d, %v; want 3", n.Revoked, err)
	}
	toks, err := b.st.ListTokens(b.ctx, TokenFilter{AppID: 42, State: TokenActive}, "", 50)
	if err != nil || len(toks) != 1 || toks[0].ID != other.Record.ID {
		t.Fatalf("active after revoke: got %d tokens, %v; want carol's only", len(toks), err)
	}
}

func TestIntrospect_ReasonsForInactiveTokens(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.createProject(t, 42)
	it := issue(t, b, IssueRequest{AppID: 42, UserID: "u", TTL: time.Minute})
	foreign, _, err := token04.Generate(token04.Params{AppID: 42, UserID: "x", Secret: []byte("ffffffffffffffffffffffffffffffff"), EffectiveSeconds: 60})
	if err != nil {
		t.Fatal(err)
	}
	elsewhere, _, err := token04.Generate(token04.Params{AppID: 42, UserID: "x", Secret: []byte(testSecret), EffectiveSeconds: 60})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, token, reason string
		now                 time.Time
		issuedHere          bool
	}{
		{"expired", it.Token, ReasonExpired, time.Now().Add(2 * time.Minute), true},
		{"unknown secret", foreign, ReasonUnknownSecret, time.Time{}, false},
		{"malformed", "04not-base64!", ReasonMalformed, time.Time{}, false},
		{"issued elsewhere with our secret is active", elsewhere, "", time.Time{}, false},
	}
	for _, c := range cases {
		in, err := b.st.Introspect(b.ctx, c.token, IntrospectOptions{Now: c.now})
		if err != nil || in.Reason != c.reason || in.Active != (c.reason == "") || in.IssuedHere() != c.issuedHere {
			t.Errorf("%s: got active=%v reason=%q issuedHere=%v err=%v; want reason %q", c.name, in.Active, in.Reason, in.IssuedHere(), err, c.reason)
		}
	}
	// A caller limited to other projects learns nothing about the token.
	in, err := b.st.Introspect(b.ctx, it.Token, IntrospectOptions{Allowed: func(a uint32) bool { return a == 7 }})
	if err != nil || in.Active || in.IssuedHere() || in.Decoded != nil {
		t.Fatalf("out of scope: got %+v, %v", in, err)
	}
}

func TestIssueToken_ProjectWithoutPublishGetsAnExplicitLoginOnlyPayload(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.createProject(t, 42)
	if _, err := b.st.UpdateProject(b.ctx, 42, ProjectInput{Name: "Demo", Environment: "test", DefaultTTL: time.Hour, MaxTTL: 24 * time.Hour, PublishAllowed: false}, testActor, testOrigin); err != nil {
		t.Fatal(err)
	}
	it := issue(t, b, IssueRequest{AppID: 42, UserID: "u"})
	dec, err := token04.Decode(it.Token, []byte(testSecret), token04.DecodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := token04.ParsePrivilege(dec.Claims.Payload)
	if err != nil || !p.Login || p.Publish {
		t.Fatalf("got payload %q (%v); want login=1 publish=0, since a token without payload may publish", dec.Claims.Payload, err)
	}
}

func TestIssueToken_ModeDefaultsToGCM(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.createProject(t, 42)
	it := issue(t, b, IssueRequest{AppID: 42, UserID: "u"})
	dec, err := token04.Decode(it.Token, []byte(testSecret), token04.DecodeOptions{})
	if err != nil || dec.Mode != token04.ModeGCM || it.Record.Mode != "gcm" {
		t.Fatalf("got token mode %v, record mode %q, %v; want gcm when the request names none", dec.Mode, it.Record.Mode, err)
	}
}

func TestIntrospect_ResealedTokenOfARevokedRecordIsStillRevoked(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.createProject(t, 42)
	it := issue(t, b, IssueRequest{AppID: 42, UserID: "bob"})
	if _, err := b.st.RevokeToken(b.ctx, 42, it.Record.ID, "", testActor, testOrigin); err != nil {
		t.Fatal(err)
	}
	// Someone holding the secret seals the same claims again: another string,
	// another fingerprint, the same token as far as ZEGO is concerned.
	dec, err := token04.Decode(it.Token, []byte(testSecret), token04.DecodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	resealed := sealGCM(t, []byte(testSecret), dec.Claims)
	if resealed == it.Token {
		t.Fatal("the resealed token should differ from the original")
	}
	in, err := b.st.Introspect(b.ctx, resealed, IntrospectOptions{})
	if err != nil || in.Active || !in.Revoked() || !in.IssuedHere() || in.Record.ID != it.Record.ID {
		t.Fatalf("resealed: got active=%v revoked=%v issuedHere=%v, %v; want the revoked record", in.Active, in.Revoked(), in.IssuedHere(), err)
	}
}

// sealGCM makes a GCM Token04 of claims with a fresh nonce, written from the
// format description rather than with token04.Generate.
func sealGCM(t *testing.T, secret []byte, c token04.Claims) string {
	t.Helper()
	pt, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := aes.NewCipher(secret)
	aead, _ := cipher.NewGCM(block)
	nonce := make([]byte, 12)
	if _, err := rand.Read(nonce); err != nil {
		t.Fatal(err)
	}
	ct := aead.Seal(nil, nonce, pt, nil)
	raw := binary.BigEndian.AppendUint64(nil, uint64(c.Expire))
	raw = binary.BigEndian.AppendUint16(raw, 12)
	raw = append(raw, nonce...)
	raw = binary.BigEndian.AppendUint16(raw, uint16(len(ct)))
	raw = append(append(raw, ct...), 1)
	return "04" + base64.StdEncoding.EncodeToString(raw)
}
