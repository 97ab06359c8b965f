package client

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"sync"
	"time"
)

// RevocationCacheOptions tune a RevocationCache; zero fields take defaults.
type RevocationCacheOptions struct {
	// MaxStaleness is how long the feed may go unread before the cache is
	// stale (90 s; keep it above Wait).
	MaxStaleness time.Duration
	// FailClosed makes a stale cache report every token revoked, so that
	// nothing gets in while revocations cannot be seen. By default a stale
	// cache fails open: it still refuses the revocations it knows, and lets
	// the others in.
	FailClosed bool
	// Wait is how long each read holds on the feed for news (30 s).
	Wait time.Duration
	// RetryMin and RetryMax bound the wait after a failed read (1 s, 30 s).
	RetryMin, RetryMax time.Duration
	// Now is the clock that decides expiry and staleness (time.Now).
	Now func() time.Time
	// OnError, if set, is told of every failed read.
	OnError func(error)
}

// RevocationCache knows every revocation of an unexpired token of the API
// key's projects: it loads the snapshot, then follows the feed (again from
// a snapshot when the console answers that the cursor is gone), and drops
// entries once their tokens expire. Revoked answers from memory. Run it in
// a goroutine of its own; the other methods are safe to call meanwhile.
type RevocationCache struct {
	c    *Client
	opts RevocationCacheOptions

	mu        sync.RWMutex
	expire    map[[sha256.Size]byte]time.Time // fingerprint → when the token expires
	cursor    int64
	loaded    bool
	resync    bool      // the cursor is gone: load the snapshot again
	lastSync  time.Time // the last successful read, by opts.Now
	snapshots int
	ready     chan struct{}
}

// NewRevocationCache makes a cache that reads the feed with c, whose key
// needs the revocations:read scope.
func NewRevocationCache(c *Client, opts RevocationCacheOptions) *RevocationCache {
	if opts.MaxStaleness <= 0 {
		opts.MaxStaleness = 90 * time.Second
	}
	if opts.Wait <= 0 {
		opts.Wait = 30 * time.Second
	}
	if opts.RetryMin <= 0 {
		opts.RetryMin = time.Second
	}
	if opts.RetryMax <= 0 {
		opts.RetryMax = 30 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &RevocationCache{c: c, opts: opts, expire: map[[sha256.Size]byte]time.Time{}, ready: make(chan struct{})}
}

// Revoked tells whether token was revoked, by its SHA-256, without a network
// call. A stale cache (see Status) answers true for every token when
// FailClosed is set, else only for the revocations it knows.
func (rc *RevocationCache) Revoked(token string) bool {
	fp := sha256.Sum256([]byte(token))
	now := rc.opts.Now()
	rc.mu.RLock()
	defer rc.mu.RUnlock()
	if rc.opts.FailClosed && rc.staleAt(now) {
		return true
	}
	exp, ok := rc.expire[fp]
	return ok && now.Before(exp)
}

// CacheStatus is how current a RevocationCache is.
type CacheStatus struct {
	Loaded    bool          // the snapshot has been loaded
	Stale     bool          // not loaded, or the feed unread for longer than MaxStaleness
	Since     time.Duration // since the last successful read
	Cursor    int64         // the feed's seq the cache has reached
	Entries   int           // revocations of unexpired tokens known
	Snapshots int           // snapshots loaded (the first, and one after each gone cursor)
}

// Status says how current the cache is.
func (rc *RevocationCache) Status() CacheStatus {
	now := rc.opts.Now()
	rc.mu.RLock()
	defer rc.mu.RUnlock()
	return CacheStatus{Loaded: rc.loaded, Stale: rc.staleAt(now), Since: now.Sub(rc.lastSync), Cursor: rc.cursor,
		Entries: len(rc.expire), Snapshots: rc.snapshots}
}

// Ready is closed once the first snapshot is loaded.
func (rc *RevocationCache) Ready() <-chan struct{} { return rc.ready }

func (rc *RevocationCache) staleAt(now time.Time) bool {
	return !rc.loaded || now.Sub(rc.lastSync) > rc.opts.MaxStaleness
}

// Run loads the snapshot and follows the feed until ctx ends, and returns
// ctx's error. Failed reads are retried with backoff; the cache turns stale
// if they go on for longer than MaxStaleness.
func (rc *RevocationCache) Run(ctx context.Context) error {
	backoff := rc.opts.RetryMin
	for {
		err := rc.Sync(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err == nil {
			backoff = rc.opts.RetryMin
			continue
		}
		if rc.opts.OnError != nil {
			rc.opts.OnError(err)
		}
		if err := sleepCtx(ctx, backoff); err != nil {
			return err
		}
		backoff = min(2*backoff, rc.opts.RetryMax)
	}
}

// Sync makes one read: the snapshot when none is loaded (or the cursor is
// gone), else the feed after the cursor, waiting up to Wait for news.
func (rc *RevocationCache) Sync(ctx context.Context) error {
	rc.mu.RLock()
	snapshot, cursor := !rc.loaded || rc.resync, rc.cursor
	rc.mu.RUnlock()
	if snapshot {
		snap, err := rc.c.RevocationSnapshot(ctx)
		if err != nil {
			return err
		}
		rc.mu.Lock()
		rc.expire = map[[sha256.Size]byte]time.Time{}
		rc.addLocked(snap.Revocations)
		rc.cursor, rc.loaded, rc.resync, rc.lastSync = snap.Seq, true, false, rc.opts.Now()
		rc.snapshots++
		first := rc.snapshots == 1
		rc.mu.Unlock()
		if first {
			close(rc.ready)
		}
		return nil
	}
	page, err := rc.c.Revocations(ctx, cursor, rc.opts.Wait)
	if IsKind(err, KindCursorGone) {
		rc.mu.Lock()
		rc.resync = true // what it knows still holds; the snapshot brings the rest
		rc.mu.Unlock()
		return nil
	}
	if err != nil {
		return err
	}
	rc.mu.Lock()
	rc.addLocked(page.Revocations)
	rc.cursor, rc.lastSync = page.Cursor, rc.opts.Now()
	rc.mu.Unlock()
	return nil
}

// addLocked records revocations and drops the entries of expired tokens;
// rc.mu is held.
func (rc *RevocationCache) addLocked(revs []Revocation) {
	for _, r := range revs {
		var fp [sha256.Size]byte
		if b, err := hex.DecodeString(r.Fingerprint); err == nil && len(b) == sha256.Size {
			copy(fp[:], b)
			rc.expire[fp] = r.Expire
		}
	}
	now := rc.opts.Now()
	for fp, exp := range rc.expire {
		if !now.Before(exp) {
			delete(rc.expire, fp)
		}
	}
}
