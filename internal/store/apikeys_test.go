package store

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

var apiKeyPattern = regexp.MustCompile(`^zc_[a-z0-9]{8}_[A-Za-z0-9_-]{43}$`)

// createKey creates an API key or stops the test.
func (e bundle) createKey(t *testing.T, in APIKeyInput) (string, APIKey) {
	t.Helper()
	raw, key, err := e.st.CreateAPIKey(e.ctx, in, e.actor, peopleOrigin)
	if err != nil {
		t.Fatalf("create api key: %v", err)
	}
	return raw, key
}

func TestCreateAPIKey_RawKeyAuthenticatesAndIsNeverStored(t *testing.T) {
	t.Parallel()
	e := setup(t).withAdmin(t)
	e.insertProject(t, 1001)
	e.insertProject(t, 1002)
	expires := time.Now().Add(24 * time.Hour).Truncate(time.Microsecond)
	raw, key := e.createKey(t, APIKeyInput{Name: " billing service ", AppIDs: []uint32{1002, 1001, 1002},
		Scopes: []string{ScopeIssue, ScopeIntrospect, ScopeIssue}, ExpiresAt: &expires})
	if !apiKeyPattern.MatchString(raw) || !strings.HasPrefix(raw, key.Prefix+"_") {
		t.Fatalf("got key %q with prefix %q, want zc_<8>_<43>", raw, key.Prefix)
	}
	if key.Name != "billing service" || !slices.Equal(key.AppIDs, []int64{1001, 1002}) ||
		!slices.Equal(key.Scopes, []string{ScopeIntrospect, ScopeIssue}) || key.CreatedBy != "root" ||
		key.ExpiresAt == nil || !key.ExpiresAt.Equal(expires) || key.RevokedAt != nil {
		t.Fatalf("got %+v, want billing service on 1001, 1002 with introspect, issue", key)
	}
	var stored []byte
	if err := e.st.pool.QueryRow(e.ctx, `SELECT secret_hash FROM api_keys WHERE id = $1`, key.ID).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if sum := sha256.Sum256([]byte(raw)); string(stored) != string(sum[:]) || string(stored) == raw {
		t.Fatalf("got stored %x, want SHA-256 of the key %x", stored, sum)
	}
	for _, needle := range []string{raw, raw[12:], raw[12:40]} {
		if hits := e.rowsContaining(t, needle); len(hits) > 0 {
			t.Fatalf("key material %q found in %v", needle, hits)
		}
	}
	got, err := e.st.AuthenticateAPIKey(e.ctx, raw)
	if err != nil || got.ID != key.ID || got.LastUsedAt == nil {
		t.Fatalf("authenticate: got %+v, %v, want key %d with a last use", got, err, key.ID)
	}
	events := e.auditEvents(t, "apikey.create")
	if len(events) != 1 || events[0].TargetID != key.Prefix || events[0].Details["prefix"] != key.Prefix ||
		events[0].Details["expires_at"] == nil || len(events[0].Details["app_ids"].([]any)) != 2 ||
		len(events[0].Details["scopes"].([]any)) != 2 {
		t.Fatalf("got events %+v, want one with prefix, scopes, app ids and expiry", events)
	}
	list, err := e.st.ListAPIKeys(e.ctx)
	if err != nil || len(list) != 1 || list[0].Prefix != key.Prefix || !slices.Equal(list[0].AppIDs, key.AppIDs) {
		t.Fatalf("list: got %+v, %v, want the one key", list, err)
	}
}

func TestCreateAPIKey_RejectsBadInput(t *testing.T) {
	t.Parallel()
	e := setup(t).withAdmin(t)
	e.insertProject(t, 1001)
	gone := e.insertProject(t, 1003)
	if _, err := e.st.pool.Exec(e.ctx, `UPDATE projects SET deleted_at = now() WHERE id = $1`, gone); err != nil {
		t.Fatal(err)
	}
	past := time.Now().Add(-time.Minute)
	ok := APIKeyInput{Name: "svc", AppIDs: []uint32{1001}, Scopes: []string{ScopeIssue}}
	tests := []struct {
		name  string
		edit  func(in *APIKeyInput)
		field string
	}{
		{"no name", func(in *APIKeyInput) { in.Name = "  " }, "name"},
		{"name too long", func(in *APIKeyInput) { in.Name = strings.Repeat("n", 101) }, "name"},
		{"name with NUL", func(in *APIKeyInput) { in.Name = "svc\x00" }, "name"},
		{"name not utf-8", func(in *APIKeyInput) { in.Name = "svc\xff" }, "name"},
		{"no project", func(in *APIKeyInput) { in.AppIDs = nil }, "projects"},
		{"app id 0", func(in *APIKeyInput) { in.AppIDs = []uint32{0} }, "projects"},
		{"unknown project", func(in *APIKeyInput) { in.AppIDs = []uint32{1001, 4242} }, "projects"},
		{"deleted project", func(in *APIKeyInput) { in.AppIDs = []uint32{1003} }, "projects"},
		{"no scope", func(in *APIKeyInput) { in.Scopes = nil }, "scopes"},
		{"unknown scope", func(in *APIKeyInput) { in.Scopes = []string{ScopeIssue, "admin"} }, "scopes"},
		{"expiry in the past", func(in *APIKeyInput) { in.ExpiresAt = &past }, "expires_at"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := ok
			tt.edit(&in)
			raw, _, err := e.st.CreateAPIKey(e.ctx, in, e.actor, peopleOrigin)
			wantField(t, err, tt.field)
			if raw != "" {
				t.Fatalf("got key %q with an error", raw)
			}
		})
	}
	if got := e.queryInt(t, `SELECT count(*) FROM api_keys`); got != 0 {
		t.Fatalf("got %d keys, want 0", got)
	}
	if got := len(e.auditEvents(t, "apikey.create")); got != 0 {
		t.Fatalf("got %d apikey.create events, want 0", got)
	}
}

func TestAPIKey_AllowsScopeAndProjectMatrix(t *testing.T) {
	t.Parallel()
	now := time.Now()
	past, future := now.Add(-time.Second), now.Add(time.Hour)
	by := "root"
	key := APIKey{Scopes: []string{ScopeIssue, ScopeIntrospect}, AppIDs: []int64{1001, 1002}}
	revoked, expired, later := key, key, key
	revoked.RevokedAt, revoked.RevokedBy = &past, &by
	expired.ExpiresAt = &past
	later.ExpiresAt = &future
	tests := []struct {
		name  string
		key   APIKey
		scope string
		appID uint32
		want  bool
	}{
		{"issue on own project", key, ScopeIssue, 1001, true},
		{"introspect on other own project", key, ScopeIntrospect, 1002, true},
		{"issue on foreign project", key, ScopeIssue, 1003, false},
		{"revoke scope missing", key, ScopeRevoke, 1001, false},
		{"audit scope missing", key, ScopeAuditRead, 1001, false},
		{"app id 0", key, ScopeIssue, 0, false},
		{"empty scope", key, "", 1001, false},
		{"revoked key", revoked, ScopeIssue, 1001, false},
		{"expired key", expired, ScopeIssue, 1001, false},
		{"key expiring later", later, ScopeIssue, 1001, true},
		{"zero key", APIKey{}, ScopeIssue, 1001, false},
	}
	for _, tt := range tests {
		if got := tt.key.Allows(tt.scope, tt.appID); got != tt.want {
			t.Errorf("%s: Allows(%q, %d): got %v, want %v", tt.name, tt.scope, tt.appID, got, tt.want)
		}
	}
	if !key.HasScope(ScopeIssue) || key.HasScope(ScopeAuditRead) || revoked.HasScope(ScopeIssue) {
		t.Error("HasScope: got a wrong answer")
	}
}

func TestAuthenticateAPIKey_RevokedExpiredTampered(t *testing.T) {
	t.Parallel()
	e := setup(t).withAdmin(t)
	e.insertProject(t, 1001)
	in := APIKeyInput{Name: "svc", AppIDs: []uint32{1001}, Scopes: []string{ScopeIssue}}
	revokedRaw, revoked := e.createKey(t, in)
	expiredRaw, expiring := e.createKey(t, in)
	liveRaw, _ := e.createKey(t, in)

	for range 2 { // idempotent: the second call changes and records nothing
		got, err := e.st.RevokeAPIKey(e.ctx, revoked.Prefix, e.actor, peopleOrigin)
		if err != nil || got.RevokedAt == nil || got.RevokedBy == nil || *got.RevokedBy != "root" {
			t.Fatalf("revoke: got %+v, %v, want revoked by root", got, err)
		}
	}
	if got := len(e.auditEvents(t, "apikey.revoke")); got != 1 {
		t.Fatalf("got %d apikey.revoke events, want 1", got)
	}
	for _, prefix := range []string{"zc_nosuchky", "", "zc_\x00abcdefg", revokedRaw} {
		if _, err := e.st.RevokeAPIKey(e.ctx, prefix, e.actor, peopleOrigin); !errors.Is(err, ErrAPIKeyNotFound) {
			t.Fatalf("revoke %q: got %v, want ErrAPIKeyNotFound", prefix, err)
		}
	}
	if _, err := e.st.pool.Exec(e.ctx, `UPDATE api_keys SET expires_at = now() - interval '1 second'
		WHERE id = $1`, expiring.ID); err != nil {
		t.Fatal(err)
	}
	last := liveRaw[len(liveRaw)-1]
	flipped := map[byte]byte{'A': 'E', 'E': 'A'}[last]
	if flipped == 0 {
		flipped = 'A'
	}
	tampered := liveRaw[:len(liveRaw)-2] + "Q" + string(flipped) // same layout, other secret
	if tampered == liveRaw {
		t.Fatal("tampered key equals the original")
	}
	tests := []struct {
		name string
		raw  string
		want error
	}{
		{"live", liveRaw, nil},
		{"revoked", revokedRaw, ErrAPIKeyRevoked},
		{"expired", expiredRaw, ErrAPIKeyExpired},
		{"tampered secret", tampered, ErrAPIKeyInvalid},
		{"revoked prefix, other secret", revoked.Prefix + liveRaw[11:], ErrAPIKeyInvalid},
		{"unknown prefix", "zc_zzzzzzzz" + liveRaw[11:], ErrAPIKeyInvalid},
	}
	for _, tt := range tests {
		if _, err := e.st.AuthenticateAPIKey(e.ctx, tt.raw); !errors.Is(err, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, err, tt.want)
		}
	}
}

func TestAuthenticateAPIKey_MalformedInputsAreInvalid(t *testing.T) {
	t.Parallel()
	e := setup(t).withAdmin(t)
	e.insertProject(t, 1001)
	raw, _ := e.createKey(t, APIKeyInput{Name: "svc", AppIDs: []uint32{1001}, Scopes: []string{ScopeIssue}})
	tests := []string{
		"",
		"zc_",
		"zc_abcdefgh_",
		raw[:len(raw)-1],
		raw + "A",
		"zk" + raw[2:],
		"ZC" + raw[2:],
		strings.ToUpper(raw[:11]) + raw[11:],
		raw[:11] + "-" + raw[12:],
		raw[:12] + strings.Repeat("!", 43),
		raw[:12] + strings.Repeat("+", 43),
		raw[:12] + base64.RawStdEncoding.EncodeToString(make([]byte, 31)) + "==",
		"Bearer " + raw,
		" " + raw[1:],
		raw[:5] + "\x00" + raw[6:],
		strings.Repeat("\xff", len(raw)),
	}
	for _, in := range tests {
		if _, err := e.st.AuthenticateAPIKey(e.ctx, in); !errors.Is(err, ErrAPIKeyInvalid) {
			t.Errorf("AuthenticateAPIKey(%q): got %v, want ErrAPIKeyInvalid", in, err)
		}
	}
}

func TestAuthenticateAPIKey_LastUsedAtMostOncePerMinute(t *testing.T) {
	t.Parallel()
	e := setup(t).withAdmin(t)
	e.insertProject(t, 1001)
	raw, key := e.createKey(t, APIKeyInput{Name: "svc", AppIDs: []uint32{1001}, Scopes: []string{ScopeIssue}})
	setLastUsed := func(sql string) {
		if _, err := e.st.pool.Exec(e.ctx, `UPDATE api_keys SET last_used_at = `+sql+` WHERE id = $1`, key.ID); err != nil {
			t.Fatal(err)
		}
	}
	ageSeconds := func() float64 {
		return float64(e.queryInt(t, `SELECT extract(epoch FROM now() - last_used_at)::int FROM api_keys WHERE id = $1`, key.ID))
	}
	setLastUsed(`now() - interval '30 seconds'`)
	if _, err := e.st.AuthenticateAPIKey(e.ctx, raw); err != nil {
		t.Fatal(err)
	}
	if got := ageSeconds(); got < 29 {
		t.Fatalf("got last use %vs ago, want about 30s (no write within a minute)", got)
	}
	setLastUsed(`now() - interval '2 minutes'`)
	if _, err := e.st.AuthenticateAPIKey(e.ctx, raw); err != nil {
		t.Fatal(err)
	}
	if got := ageSeconds(); got > 5 {
		t.Fatalf("got last use %vs ago, want just now", got)
	}
}

func TestAPIKey_DeletedProjectIsNotReachedThroughItsAppID(t *testing.T) {
	t.Parallel()
	e := setup(t).withAdmin(t)
	old := e.insertProject(t, 1001)
	raw, _ := e.createKey(t, APIKeyInput{Name: "svc", AppIDs: []uint32{1001}, Scopes: []string{ScopeIssue}})
	if _, err := e.st.pool.Exec(e.ctx, `UPDATE projects SET deleted_at = now() WHERE id = $1`, old); err != nil {
		t.Fatal(err)
	}
	e.insertProject(t, 1001) // a new project reusing the app id
	key, err := e.st.AuthenticateAPIKey(e.ctx, raw)
	if err != nil {
		t.Fatal(err)
	}
	if key.Allows(ScopeIssue, 1001) || len(key.AppIDs) != 0 {
		t.Fatalf("got app ids %v, want none: the key's project is deleted", key.AppIDs)
	}
}

func FuzzParseAPIKey(f *testing.F) {
	f.Add("zc_abcdefgh_" + strings.Repeat("A", 43))
	f.Add("zc_0123abcd_" + base64.RawURLEncoding.EncodeToString(make([]byte, 32)))
	f.Add("zc_abcdefgh_" + strings.Repeat("_", 42) + "B")
	f.Add("")
	f.Add("zc_")
	f.Fuzz(func(t *testing.T, raw string) {
		prefix, ok := parseAPIKey(raw)
		if !ok {
			if prefix != "" {
				t.Fatalf("got prefix %q for a rejected key", prefix)
			}
			return
		}
		if !apiKeyPattern.MatchString(raw) || prefix != raw[:11] {
			t.Fatalf("accepted %q with prefix %q", raw, prefix)
		}
		secret, err := base64.RawURLEncoding.DecodeString(raw[12:])
		if err != nil || len(secret) != 32 || base64.RawURLEncoding.EncodeToString(secret) != raw[12:] {
			t.Fatalf("accepted %q whose secret does not round-trip", raw)
		}
	})
}

func TestNewAPIKey_ParsesBack(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for range 200 {
		raw, prefix, err := newAPIKey()
		if err != nil {
			t.Fatal(err)
		}
		got, ok := parseAPIKey(raw)
		if !ok || got != prefix || seen[prefix] {
			t.Fatalf("parseAPIKey(%q): got %q, %v, want %q, true (unique)", raw, got, ok, prefix)
		}
		seen[prefix] = true
	}
}
