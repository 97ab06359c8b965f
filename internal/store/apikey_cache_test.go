package store

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// startKeyCache runs st's API key cache with ttl until the test ends and
// returns once it hears changes.
func (b bundle) startKeyCache(t *testing.T, st *Store, ttl time.Duration) {
	t.Helper()
	ctx, cancel := context.WithCancel(b.ctx)
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		st.RunAPIKeyCache(ctx, ttl, slog.New(slog.DiscardHandler))
	}()
	t.Cleanup(func() { cancel(); <-stopped })
	b.waitFor(t, "the api key cache to listen", func() bool { return st.keyCacheLive() })
}

// keyCacheLive tells whether st's API key cache hears changes.
func (st *Store) keyCacheLive() bool {
	c := st.keyCache.Load()
	if c == nil {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.live
}

// settleKeyCache returns once st has heard every change committed so far:
// announcements arrive in commit order, so once it hears one of the test's
// own, it heard those before.
func (b bundle) settleKeyCache(t *testing.T, st *Store) {
	t.Helper()
	marker := "settle-" + time.Now().Format(time.RFC3339Nano)
	if _, err := b.owner.pool.Exec(b.ctx, `SELECT pg_notify($1, $2)`, apiKeyChannel, marker); err != nil {
		t.Fatal(err)
	}
	c := st.keyCache.Load()
	b.waitFor(t, "the api key cache to hear "+marker, func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.lastHeard == marker
	})
}

// issueKey makes an API key with the issue scope for the projects.
func issueKey(appIDs ...uint32) APIKeyInput {
	return APIKeyInput{Name: "svc", AppIDs: appIDs, Scopes: []string{ScopeIssue}}
}

// execOwner runs statements as the schema owner in one transaction.
func (b bundle) execOwner(t *testing.T, statements ...string) {
	t.Helper()
	if err := pgx.BeginFunc(b.ctx, b.owner.pool, func(tx pgx.Tx) error {
		for _, q := range statements {
			if _, err := tx.Exec(b.ctx, q); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// changeKeyUnannounced changes every key in the database the way no
// instance hears of: with the announcing trigger off.
func (b bundle) changeKeyUnannounced(t *testing.T, set string) {
	t.Helper()
	b.execOwner(t, `ALTER TABLE api_keys DISABLE TRIGGER api_keys_notify`, `UPDATE api_keys SET `+set,
		`ALTER TABLE api_keys ENABLE TRIGGER api_keys_notify`)
}

// awaitAuthError polls st until raw is refused with want.
func (b bundle) awaitAuthError(t *testing.T, st *Store, raw string, want error) {
	t.Helper()
	var err error
	b.waitFor(t, "the key to be refused with "+want.Error(), func() bool {
		_, err = st.AuthenticateAPIKey(b.ctx, raw)
		return errors.Is(err, want)
	})
}

func TestAPIKeyCache_AKeyRevokedOnOneInstanceIsRefusedByAnother(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.actor = testActor
	b.createProject(t, 1001)
	other := b.open(t)
	b.startKeyCache(t, b.st, time.Hour)
	b.startKeyCache(t, other, time.Hour)
	raw, k := b.createKey(t, issueKey(1001))
	b.settleKeyCache(t, other)
	if _, err := other.AuthenticateAPIKey(b.ctx, raw); err != nil {
		t.Fatal(err)
	}
	// The other instance answers from memory: a change it does not hear of
	// goes unseen there (the TTL is an hour).
	b.changeKeyUnannounced(t, `scopes = '{revoke}'`)
	if got, err := other.AuthenticateAPIKey(b.ctx, raw); err != nil || !slices.Equal(got.Scopes, []string{ScopeIssue}) {
		t.Fatalf("cached key: got scopes %v (%v), want [issue] as cached", got.Scopes, err)
	}
	if _, err := b.st.RevokeAPIKey(b.ctx, k.Prefix, testActor, testOrigin); err != nil {
		t.Fatal(err)
	}
	if _, err := b.st.AuthenticateAPIKey(b.ctx, raw); !errors.Is(err, ErrAPIKeyRevoked) {
		t.Fatalf("the instance that revoked: got %v, want %v at once", err, ErrAPIKeyRevoked)
	}
	b.awaitAuthError(t, other, raw, ErrAPIKeyRevoked)
}

func TestAPIKeyCache_ScopeExpiryAndProjectChangesReachEveryInstance(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.actor = testActor
	b.createProject(t, 1001)
	b.createProject(t, 1002)
	other := b.open(t)
	b.startKeyCache(t, other, time.Hour)
	raw, _ := b.createKey(t, issueKey(1001, 1002))
	if _, err := other.AuthenticateAPIKey(b.ctx, raw); err != nil {
		t.Fatal(err)
	}
	if err := b.st.DeleteProject(b.ctx, 1002, testActor, testOrigin); err != nil {
		t.Fatal(err)
	}
	b.waitFor(t, "project 1002 to leave the cached key", func() bool {
		k, err := other.AuthenticateAPIKey(b.ctx, raw)
		return err == nil && slices.Equal(k.AppIDs, []int64{1001})
	})
	b.execOwner(t, `UPDATE api_keys SET scopes = '{revoke}'`)
	b.waitFor(t, "the new scopes to reach the cached key", func() bool {
		k, err := other.AuthenticateAPIKey(b.ctx, raw)
		return err == nil && slices.Equal(k.Scopes, []string{ScopeRevoke})
	})
	b.execOwner(t, `UPDATE api_keys SET expires_at = now() - interval '1 second'`)
	b.awaitAuthError(t, other, raw, ErrAPIKeyExpired)
}

func TestAPIKeyCache_AnInstanceThatStopsHearingForgetsWhatItKnew(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.actor = testActor
	b.createProject(t, 1001)
	b.startKeyCache(t, b.st, time.Hour)
	raw, _ := b.createKey(t, issueKey(1001))
	b.settleKeyCache(t, b.st)
	if _, err := b.st.AuthenticateAPIKey(b.ctx, raw); err != nil {
		t.Fatal(err)
	}
	b.changeKeyUnannounced(t, `revoked_at = now(), revoked_by = 'dba'`)
	if _, err := b.st.AuthenticateAPIKey(b.ctx, raw); err != nil {
		t.Fatalf("cached key before the outage: got %v, want it accepted from memory", err)
	}
	super, err := pgx.Connect(b.ctx, b.db.SuperuserURL)
	if err != nil {
		t.Fatal(err)
	}
	defer super.Close(context.WithoutCancel(b.ctx))
	// Changes made while nobody listens would go unheard: the cache is
	// emptied when its listener's connection ends.
	if _, err := super.Exec(b.ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE datname = current_database() AND query = 'LISTEN `+apiKeyChannel+`'`); err != nil {
		t.Fatal(err)
	}
	b.awaitAuthError(t, b.st, raw, ErrAPIKeyRevoked)
	b.waitFor(t, "the cache to listen again", b.st.keyCacheLive)
}

func TestAPIKeyCache_AnUnannouncedChangeIsSeenOnceTheTTLHasPassed(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.actor = testActor
	b.createProject(t, 1001)
	b.startKeyCache(t, b.st, 50*time.Millisecond)
	raw, _ := b.createKey(t, issueKey(1001))
	if _, err := b.st.AuthenticateAPIKey(b.ctx, raw); err != nil {
		t.Fatal(err)
	}
	b.changeKeyUnannounced(t, `revoked_at = now(), revoked_by = 'dba'`)
	b.awaitAuthError(t, b.st, raw, ErrAPIKeyRevoked)
}
