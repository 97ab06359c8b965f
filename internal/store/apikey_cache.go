package store

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// apiKeyChannel is where changes to API keys are announced (migrations/00012):
// a key's prefix, or "*" for every key.
const apiKeyChannel = "console_api_keys"

// Bounds of the API key cache.
const (
	// DefaultAPIKeyCacheTTL is how long a verified key is trusted without
	// asking the database, should a change ever go unannounced.
	DefaultAPIKeyCacheTTL = 10 * time.Second
	apiKeyCacheMax        = 10000 // keys remembered at most; past it, all are forgotten
	apiKeyTouchEvery      = time.Minute
	apiKeyListenRetry     = time.Second
)

// apiKeyCache remembers the API keys this instance verified, so that a
// request costs no query. It is used only while its listener hears every
// change (live); a change forgets the key at once, and a key is never
// trusted for longer than ttl.
type apiKeyCache struct {
	ttl  time.Duration
	mu   sync.Mutex
	live bool
	gen  uint64 // bumped by every change heard: a lookup older than it is not kept
	keys map[string]*cachedKey
	// lastHeard is the last announcement heard: tests wait for their own.
	lastHeard string
}

// cachedKey is a verified key as authentication needs it.
type cachedKey struct {
	row       authKeyRow
	fetchedAt time.Time
	touchedAt time.Time // when last_used_at was last written (or found recent)
}

// lookup returns the cached key with prefix and the generation to keep a
// fresh lookup under; ok is false when the cache must not be used.
func (c *apiKeyCache) lookup(prefix string, now time.Time) (k *cachedKey, gen uint64, ok bool) {
	if c == nil {
		return nil, 0, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.live {
		return nil, 0, false
	}
	k = c.keys[prefix]
	if k != nil && now.Sub(k.fetchedAt) >= c.ttl {
		delete(c.keys, prefix)
		k = nil
	}
	return k, c.gen, true
}

// keep remembers a key read from the database, unless a change was heard
// since gen: then what was read may be older than the change.
func (c *apiKeyCache) keep(gen uint64, k *cachedKey) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.live || c.gen != gen {
		return
	}
	if len(c.keys) >= apiKeyCacheMax {
		clear(c.keys)
	}
	c.keys[k.row.Prefix] = k
}

// forget drops the key with prefix, or every key for "*".
func (c *apiKeyCache) forget(prefix string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.lastHeard = prefix
	if prefix == "*" {
		clear(c.keys)
	} else {
		delete(c.keys, prefix)
	}
}

// setLive turns the cache on once its listener listens, and off (forgetting
// everything) when it stops hearing.
func (c *apiKeyCache) setLive(live bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.live = live
	clear(c.keys)
}

// touchDue tells whether last_used_at is due for k, and marks it done.
func (c *apiKeyCache) touchDue(k *cachedKey, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if now.Sub(k.touchedAt) < apiKeyTouchEvery {
		return false
	}
	k.touchedAt = now
	return true
}

// RunAPIKeyCache keeps the API keys this instance verifies in memory until
// ctx is done, for at most ttl each (DefaultAPIKeyCacheTTL when ttl <= 0):
// AuthenticateAPIKey then asks the database only for a key it has not seen.
// A dedicated connection LISTENs for changes, which every instance hears
// when they commit; while it is not listening (the database is away, say),
// the cache is off and every request asks the database.
func (s *Store) RunAPIKeyCache(ctx context.Context, ttl time.Duration, logger *slog.Logger) {
	if ttl <= 0 {
		ttl = DefaultAPIKeyCacheTTL
	}
	c := &apiKeyCache{ttl: ttl, keys: map[string]*cachedKey{}}
	s.keyCache.Store(c)
	defer s.keyCache.CompareAndSwap(c, nil)
	warned := false
	for ctx.Err() == nil {
		listened, err := s.listenForKeyChanges(ctx, c)
		c.setLive(false)
		if ctx.Err() != nil {
			return
		}
		if listened || !warned {
			logger.Warn("api key cache off until it hears changes again: every request asks the database", "err", err)
			warned = true
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(apiKeyListenRetry):
		}
	}
}

// listenForKeyChanges LISTENs on a connection of its own and forgets the
// keys announced until the connection fails or ctx is done; listened tells
// whether it got as far as listening.
func (s *Store) listenForKeyChanges(ctx context.Context, c *apiKeyCache) (listened bool, err error) {
	conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig.Copy())
	if err != nil {
		return false, fmt.Errorf("store: api key cache: connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+apiKeyChannel); err != nil {
		return false, fmt.Errorf("store: api key cache: listen: %w", err)
	}
	c.setLive(true)
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return true, fmt.Errorf("store: api key cache: %w", err)
		}
		c.forget(n.Payload)
	}
}

// forgetAPIKeys drops prefix ("*": every key) from this instance's cache at
// once, after a change this instance committed; the others hear of it.
func (s *Store) forgetAPIKeys(prefix string) {
	s.keyCache.Load().forget(prefix)
}
