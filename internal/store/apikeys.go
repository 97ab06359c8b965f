package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
)

// API key errors; all three mean 401 to the API.
var (
	ErrAPIKeyInvalid = errors.New("store: api key invalid")
	ErrAPIKeyRevoked = errors.New("store: api key revoked")
	ErrAPIKeyExpired = errors.New("store: api key expired")
)

// API key scopes: the actions a key may perform.
const (
	ScopeIssue      = "issue"
	ScopeRevoke     = "revoke"
	ScopeIntrospect = "introspect"
	ScopeAuditRead  = "audit:read"
	ScopeSinksAdmin = "sinks:admin" // manage every audit sink, whatever the key's projects
	// ScopeRevocationsRead reads the revocation feed of the key's projects.
	ScopeRevocationsRead = "revocations:read"
)

// APIKey is a backend service's key as the console shows it: its prefix,
// never its secret.
type APIKey struct {
	ID         int64      `db:"id"`
	Name       string     `db:"name"`
	Prefix     string     `db:"prefix"`
	Scopes     []string   `db:"scopes"`
	AppIDs     []int64    `db:"app_ids"` // the key's projects that are not deleted
	ExpiresAt  *time.Time `db:"expires_at"`
	CreatedAt  time.Time  `db:"created_at"`
	CreatedBy  string     `db:"created_by"`
	RevokedAt  *time.Time `db:"revoked_at"`
	RevokedBy  *string    `db:"revoked_by"`
	LastUsedAt *time.Time `db:"last_used_at"`
}

// APIKeyInput is what an admin enters to create a key.
type APIKeyInput struct {
	Name      string
	AppIDs    []uint32
	Scopes    []string
	ExpiresAt *time.Time // nil: never expires
}

// HasScope tells whether the key, unrevoked and unexpired, carries scope.
func (k APIKey) HasScope(scope string) bool {
	if k.RevokedAt != nil || (k.ExpiresAt != nil && !time.Now().Before(*k.ExpiresAt)) {
		return false
	}
	return slices.Contains(k.Scopes, scope)
}

// Allows tells whether the key may perform scope on the project appID.
func (k APIKey) Allows(scope string, appID uint32) bool {
	return appID != 0 && k.HasScope(scope) && slices.Contains(k.AppIDs, int64(appID))
}

// selectAPIKeys reads keys with the app ids of their live projects: a
// deleted project's app id may later name another project, which the key
// must not reach.
const (
	apiKeyColumns = `k.id, k.name, k.prefix, k.scopes, k.expires_at, k.created_at, k.created_by,
		k.revoked_at, k.revoked_by, k.last_used_at,
		ARRAY(SELECT p.app_id FROM api_key_projects kp JOIN projects p ON p.id = kp.project_id
			WHERE kp.api_key_id = k.id AND p.deleted_at IS NULL ORDER BY p.app_id) AS app_ids`
	selectAPIKeys = `SELECT ` + apiKeyColumns + ` FROM api_keys k`
)

// ListAPIKeys returns every key, newest first, revoked ones included.
func (s *Store) ListAPIKeys(ctx context.Context) ([]APIKey, error) {
	rows, _ := s.pool.Query(ctx, selectAPIKeys+` ORDER BY k.created_at DESC, k.id DESC`)
	keys, err := pgx.CollectRows(rows, pgx.RowToStructByName[APIKey])
	if err != nil {
		return nil, fmt.Errorf("store: list api keys: %w", err)
	}
	return keys, nil
}

// apiKeyByPrefix reads one key or returns ErrAPIKeyNotFound.
func apiKeyByPrefix(ctx context.Context, db dbtx, prefix string) (APIKey, error) {
	rows, _ := db.Query(ctx, selectAPIKeys+` WHERE k.prefix = $1`, prefix)
	key, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[APIKey])
	if errors.Is(err, pgx.ErrNoRows) {
		return APIKey{}, ErrAPIKeyNotFound
	}
	if err != nil {
		return APIKey{}, fmt.Errorf("store: api key %s: %w", prefix, err)
	}
	return key, nil
}

// CreateAPIKey validates in and stores a new key scoped to live projects,
// auditing apikey.create (prefix, scopes, app ids, expiry; never the key). The
// raw key is returned only here: show it once.
func (s *Store) CreateAPIKey(ctx context.Context, in APIKeyInput, actor Actor, origin Origin) (string, APIKey, error) {
	if err := in.validate(time.Now()); err != nil {
		return "", APIKey{}, err
	}
	appIDs := make([]int64, 0, len(in.AppIDs))
	for _, id := range in.AppIDs {
		appIDs = append(appIDs, int64(id))
	}
	slices.Sort(appIDs)
	appIDs = slices.Compact(appIDs)
	scopes := slices.Compact(slices.Sorted(slices.Values(in.Scopes)))
	for attempt := 0; ; attempt++ {
		raw, key, err := s.insertAPIKey(ctx, in, appIDs, scopes, actor, origin)
		if isUniqueViolation(err) && attempt < 3 {
			continue // prefix collision: draw another key
		}
		return raw, key, err
	}
}

func (s *Store) insertAPIKey(ctx context.Context, in APIKeyInput, appIDs []int64, scopes []string,
	actor Actor, origin Origin) (string, APIKey, error) {
	raw, prefix, err := newAPIKey()
	if err != nil {
		return "", APIKey{}, err
	}
	sum := sha256.Sum256([]byte(raw))
	var key APIKey
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		// FOR SHARE keeps the projects from being deleted until we commit.
		rows, _ := tx.Query(ctx, `SELECT id, app_id FROM projects
			WHERE app_id = ANY($1) AND deleted_at IS NULL FOR SHARE`, appIDs)
		projectIDs := map[int64]int64{}
		var id, appID int64
		if _, err := pgx.ForEachRow(rows, []any{&id, &appID}, func() error {
			projectIDs[appID] = id
			return nil
		}); err != nil {
			return fmt.Errorf("store: api key projects: %w", err)
		}
		v := validator{}
		for _, a := range appIDs {
			v.check(projectIDs[a] != 0, "projects", "no project with app id %d", a)
		}
		if err := v.err(); err != nil {
			return err
		}
		var keyID int64
		err := tx.QueryRow(ctx, `INSERT INTO api_keys (name, prefix, secret_hash, scopes, expires_at, created_by)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
			strings.TrimSpace(in.Name), prefix, sum[:], scopes, in.ExpiresAt, actor.Name).Scan(&keyID)
		if err != nil {
			return fmt.Errorf("store: insert api key: %w", err)
		}
		for _, a := range appIDs {
			if _, err := tx.Exec(ctx, `INSERT INTO api_key_projects (api_key_id, project_id) VALUES ($1, $2)`,
				keyID, projectIDs[a]); err != nil {
				return fmt.Errorf("store: insert api key project: %w", err)
			}
		}
		if key, err = apiKeyByPrefix(ctx, tx, prefix); err != nil {
			return err
		}
		return s.insertAudit(ctx, tx, Event{
			Actor: actor, Origin: origin, Action: "apikey.create", Outcome: OutcomeSuccess,
			TargetType: "api_key", TargetID: prefix,
			Details: map[string]any{"prefix": prefix, "name": key.Name, "scopes": key.Scopes,
				"app_ids": key.AppIDs, "expires_at": key.ExpiresAt},
		})
	})
	if err != nil {
		return "", APIKey{}, err
	}
	return raw, key, nil
}

// RevokeAPIKey revokes the key with prefix and audits apikey.revoke. Revoking
// a revoked key changes nothing and records nothing.
func (s *Store) RevokeAPIKey(ctx context.Context, prefix string, actor Actor, origin Origin) (APIKey, error) {
	if !validAPIKeyPrefix(prefix) {
		return APIKey{}, ErrAPIKeyNotFound
	}
	var key APIKey
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE api_keys SET revoked_at = now(), revoked_by = $2
			WHERE prefix = $1 AND revoked_at IS NULL`, prefix, actor.Name)
		if err != nil {
			return fmt.Errorf("store: revoke api key: %w", err)
		}
		if key, err = apiKeyByPrefix(ctx, tx, prefix); err != nil || tag.RowsAffected() == 0 {
			return err
		}
		return s.insertAudit(ctx, tx, Event{
			Actor: actor, Origin: origin, Action: "apikey.revoke", Outcome: OutcomeSuccess,
			TargetType: "api_key", TargetID: key.Prefix,
			Details: map[string]any{"prefix": key.Prefix, "name": key.Name},
		})
	})
	if err != nil {
		return APIKey{}, err
	}
	s.forgetAPIKeys(prefix) // at once here; other instances hear of it (migrations/00012)
	return key, nil
}

// authKeyRow is what authentication needs beyond the public APIKey.
type authKeyRow struct {
	APIKey
	SecretHash []byte `db:"secret_hash"`
}

// AuthenticateAPIKey returns the key that raw is, or ErrAPIKeyInvalid,
// ErrAPIKeyRevoked or ErrAPIKeyExpired. Revocation and expiry are only told
// to whoever holds the right secret. A key this instance verified recently
// costs no query while RunAPIKeyCache runs; else one. last_used_at is
// written at most once a minute.
func (s *Store) AuthenticateAPIKey(ctx context.Context, raw string) (APIKey, error) {
	prefix, ok := parseAPIKey(raw)
	if !ok {
		return APIKey{}, ErrAPIKeyInvalid
	}
	sum := sha256.Sum256([]byte(raw))
	now := time.Now()
	cache := s.keyCache.Load()
	k, gen, cached := cache.lookup(prefix, now)
	if k == nil {
		rows, _ := s.pool.Query(ctx, `SELECT `+apiKeyColumns+`, k.secret_hash FROM api_keys k WHERE k.prefix = $1`, prefix)
		row, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[authKeyRow])
		if errors.Is(err, pgx.ErrNoRows) {
			return APIKey{}, ErrAPIKeyInvalid
		}
		if err != nil {
			return APIKey{}, fmt.Errorf("store: authenticate api key: %w", err)
		}
		k = &cachedKey{row: row, fetchedAt: now}
		if row.LastUsedAt != nil {
			k.touchedAt = *row.LastUsedAt
		}
		if cached && subtle.ConstantTimeCompare(sum[:], row.SecretHash) == 1 {
			cache.keep(gen, k)
		}
	}
	if subtle.ConstantTimeCompare(sum[:], k.row.SecretHash) != 1 {
		return APIKey{}, ErrAPIKeyInvalid
	}
	if k.row.RevokedAt != nil {
		return APIKey{}, ErrAPIKeyRevoked
	}
	if k.row.ExpiresAt != nil && !now.Before(*k.row.ExpiresAt) {
		return APIKey{}, ErrAPIKeyExpired
	}
	key := k.row.APIKey
	if (cache == nil || !cached) && now.Sub(k.touchedAt) >= apiKeyTouchEvery || cached && cache.touchDue(k, now) {
		var at time.Time
		err := s.pool.QueryRow(ctx, `UPDATE api_keys SET last_used_at = now() WHERE id = $1 RETURNING last_used_at`,
			key.ID).Scan(&at)
		if err != nil {
			return APIKey{}, fmt.Errorf("store: api key last use: %w", err)
		}
		key.LastUsedAt = &at
	}
	return key, nil
}

// API key layout: "zc_" + 8 lowercase alphanumerics + "_" + 43 base64url
// characters (32 random bytes). The first 11 characters are the prefix.
const (
	apiKeyPrefixLen = len("zc_") + 8
	apiKeyLen       = apiKeyPrefixLen + 1 + 43
	prefixAlphabet  = "abcdefghijklmnopqrstuvwxyz0123456789"
)

// parseAPIKey checks the layout of raw and returns its prefix.
func parseAPIKey(raw string) (prefix string, ok bool) {
	if len(raw) != apiKeyLen || !validAPIKeyPrefix(raw[:apiKeyPrefixLen]) || raw[apiKeyPrefixLen] != '_' {
		return "", false
	}
	secret, err := base64.RawURLEncoding.Strict().DecodeString(raw[apiKeyPrefixLen+1:])
	if err != nil || len(secret) != 32 {
		return "", false
	}
	return raw[:apiKeyPrefixLen], true
}

// validAPIKeyPrefix tells whether prefix is "zc_" and 8 lowercase alphanumerics.
func validAPIKeyPrefix(prefix string) bool {
	if len(prefix) != apiKeyPrefixLen || !strings.HasPrefix(prefix, "zc_") {
		return false
	}
	for i := len("zc_"); i < apiKeyPrefixLen; i++ {
		if strings.IndexByte(prefixAlphabet, prefix[i]) < 0 {
			return false
		}
	}
	return true
}

// newAPIKey draws a fresh key: a random prefix id and a 32-byte secret.
func newAPIKey() (raw, prefix string, err error) {
	id := make([]byte, 0, 8)
	var buf [16]byte
	for len(id) < 8 {
		if _, err := rand.Read(buf[:]); err != nil {
			return "", "", fmt.Errorf("store: api key prefix: %w", err)
		}
		for _, b := range buf {
			// 252 = 7*36: rejecting the rest keeps every character equally likely.
			if b < 252 && len(id) < 8 {
				id = append(id, prefixAlphabet[b%36])
			}
		}
	}
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return "", "", fmt.Errorf("store: api key secret: %w", err)
	}
	prefix = "zc_" + string(id)
	return prefix + "_" + base64.RawURLEncoding.EncodeToString(secret), prefix, nil
}

func (in APIKeyInput) validate(now time.Time) error {
	v := validator{}
	name := strings.TrimSpace(in.Name)
	v.check(name != "" && utf8.ValidString(name) && !containsNUL(name) && utf8.RuneCountInString(name) <= 100,
		"name", "must be 1 to 100 characters")
	v.check(len(in.AppIDs) > 0, "projects", "choose at least one project")
	v.check(!slices.Contains(in.AppIDs, 0), "projects", "app id 0 names no project")
	v.check(len(in.Scopes) > 0, "scopes", "choose at least one scope")
	for _, sc := range in.Scopes {
		v.check(sc == ScopeIssue || sc == ScopeRevoke || sc == ScopeIntrospect || sc == ScopeAuditRead || sc == ScopeSinksAdmin || sc == ScopeRevocationsRead,
			"scopes", "unknown scope %q", sc)
	}
	v.check(in.ExpiresAt == nil || in.ExpiresAt.After(now), "expires_at", "must be in the future")
	return v.err()
}
