package client_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/zegocloud-console/console/client"
	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/web/webtest"
)

var revoker = store.Actor{Type: store.ActorOperator, ID: "7", Name: "otto"}

// issueTokens issues n tokens of project 1001 through the store.
func issueTokens(t *testing.T, e *webtest.Env, prefix string, n int, ttl time.Duration) []store.IssuedToken {
	t.Helper()
	var out []store.IssuedToken
	for i := range n {
		out = append(out, e.IssueFor(t, 1001, fmt.Sprintf("%s-%02d", prefix, i), func(r *store.IssueRequest) { r.TTL = ttl }))
	}
	return out
}

// testClock is a clock a test moves by hand.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// waitUntil polls cond until it holds or timeout passes.
func waitUntil(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline, tick := time.Now().Add(timeout), time.NewTicker(10*time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, timeout)
		}
		<-tick.C
	}
}

func TestRevocationFeed_ConcurrentRevokesOnTwoInstancesReachAFollowerOnceEachInOrderAndAcrossARestart(t *testing.T) {
	t.Parallel()
	e, key := newConsole(t)
	other := e.Another(t) // a second console instance: its own store and server
	lb := newFront(t, e.URL)
	c := client.New(lb.URL, key)
	toks := issueTokens(t, e, "user", 40, time.Hour)

	// A follower reads the feed with long polls while the two instances revoke.
	var mu sync.Mutex
	var seen []client.Revocation
	var cursors []int64
	followCtx, stopFollowing := context.WithCancel(context.Background())
	followed := make(chan error, 1)
	go func() {
		cursor := int64(0)
		for followCtx.Err() == nil {
			page, err := c.Revocations(followCtx, cursor, 5*time.Second)
			if err != nil {
				if followCtx.Err() != nil {
					err = nil // stopped
				}
				followed <- err
				return
			}
			mu.Lock()
			seen = append(seen, page.Revocations...)
			cursors = append(cursors, page.Cursor)
			mu.Unlock()
			cursor = page.Cursor
		}
		followed <- nil
	}()
	cache := client.NewRevocationCache(c, client.RevocationCacheOptions{Wait: 5 * time.Second})
	cacheCtx, stopCache := context.WithCancel(context.Background())
	defer stopCache()
	go cache.Run(cacheCtx) //nolint:errcheck
	<-cache.Ready()

	var wg sync.WaitGroup
	for w, st := range []*store.Store{e.Store, other.Store} {
		wg.Go(func() {
			for i := w; i < len(toks); i += 2 {
				if _, err := st.RevokeToken(context.Background(), 1001, toks[i].Record.ID, "", revoker, store.Origin{}); err != nil {
					t.Errorf("revoke on instance %d: %v", w, err)
				}
			}
		})
	}
	wg.Wait()
	count := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(seen)
	}
	waitUntil(t, 30*time.Second, "the follower has read 40 revocations", func() bool { return count() >= 40 })

	// The console the follower reads from goes away; another serves on.
	lb.switchTo(other.URL)
	e.Stop()
	more := issueTokens(t, other, "late", 5, time.Hour)
	if _, err := other.Store.RevokeUserTokens(context.Background(), 1001, "late-00", "", revoker, store.Origin{}); err != nil {
		t.Fatal(err)
	}
	for _, it := range more[1:] {
		if _, err := other.Store.RevokeToken(context.Background(), 1001, it.Record.ID, "", revoker, store.Origin{}); err != nil {
			t.Fatal(err)
		}
	}
	waitUntil(t, 30*time.Second, "the follower has read 45 revocations", func() bool { return count() >= 45 })
	stopFollowing()
	if err := <-followed; err != nil {
		t.Fatalf("the follower failed: %v", err)
	}

	mu.Lock()
	defer mu.Unlock()
	want := map[string]bool{}
	for _, it := range append(toks, more...) {
		want[it.Record.ID] = true
	}
	got := map[string]bool{}
	for i, r := range seen {
		if r.Seq != int64(i+1) {
			t.Errorf("revocation %d has seq %d, want %d: none missed, none twice, in commit order", i, r.Seq, i+1)
		}
		if got[r.TokenID] || !want[r.TokenID] {
			t.Errorf("seq %d: token %s read twice or never revoked", r.Seq, r.TokenID)
		}
		got[r.TokenID] = true
	}
	if len(seen) != 45 || len(got) != 45 {
		t.Errorf("got %d revocations (%d distinct), want 45", len(seen), len(got))
	}
	for i := 1; i < len(cursors); i++ {
		if cursors[i] < cursors[i-1] {
			t.Errorf("the cursor went back from %d to %d", cursors[i-1], cursors[i])
		}
	}
	waitUntil(t, 30*time.Second, "the cache knows every revocation", func() bool {
		for _, it := range append(toks, more...) {
			if !cache.Revoked(it.Token) {
				return false
			}
		}
		return true
	})
	unrevoked := other.IssueFor(t, 1001, "nobody-revoked-me")
	if cache.Revoked(unrevoked.Token) {
		t.Error("the cache says a token nobody revoked is revoked")
	}
	if st := cache.Status(); st.Snapshots != 1 || st.Stale || st.Entries != 45 || st.Cursor != 45 {
		t.Errorf("cache: got %+v, want one snapshot, followed through the restart to seq 45 with 45 entries", st)
	}
}

func TestRevocationCache_ACursorOlderThanTheFeedKeepsReloadsTheSnapshot(t *testing.T) {
	t.Parallel()
	e, key := newConsole(t)
	ctx := t.Context()
	cache := client.NewRevocationCache(client.New(e.URL, key), client.RevocationCacheOptions{Wait: time.Second})
	if err := cache.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	live := issueTokens(t, e, "live", 2, time.Hour)
	revoke := func(it store.IssuedToken) {
		t.Helper()
		if _, err := e.Store.RevokeToken(ctx, 1001, it.Record.ID, "", revoker, store.Origin{}); err != nil {
			t.Fatal(err)
		}
	}
	revoke(live[0])
	if err := cache.Sync(ctx); err != nil || cache.Status().Cursor != 1 {
		t.Fatalf("got %+v, %v; want the first revocation read", cache.Status(), err)
	}
	// While the cache is away, the feed moves on and drops an expired entry.
	old := e.IssueAt(t, 1001, "old", time.Now().Add(-3*time.Hour))
	revoke(old)
	revoke(live[1])
	if _, err := e.Store.PruneRevocations(ctx, time.Now().Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := cache.Sync(ctx); err != nil {
		t.Fatalf("the feed's 410: got %v, want the cache to take it as a reason to reload", err)
	}
	if err := cache.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if st := cache.Status(); st.Snapshots != 2 || st.Cursor != 3 || st.Entries != 2 || st.Stale {
		t.Fatalf("got %+v, want a second snapshot at seq 3 with the two live revocations", st)
	}
	if !cache.Revoked(live[0].Token) || !cache.Revoked(live[1].Token) {
		t.Fatal("the reloaded cache forgot a revocation")
	}
}

func TestRevocationCache_DropsEntriesOnceTheirTokensExpire(t *testing.T) {
	t.Parallel()
	e, key := newConsole(t)
	ctx := t.Context()
	clock := &testClock{now: time.Now()}
	cache := client.NewRevocationCache(client.New(e.URL, key), client.RevocationCacheOptions{Wait: time.Second, Now: clock.Now})
	short := issueTokens(t, e, "short", 1, time.Hour)[0]
	if _, err := e.Store.RevokeToken(ctx, 1001, short.Record.ID, "", revoker, store.Origin{}); err != nil {
		t.Fatal(err)
	}
	if err := cache.Sync(ctx); err != nil || !cache.Revoked(short.Token) || cache.Status().Entries != 1 {
		t.Fatalf("got %+v, %v; want the revocation known", cache.Status(), err)
	}
	clock.Advance(2 * time.Hour)
	if cache.Revoked(short.Token) {
		t.Error("an expired token still counts as revoked (ZEGO refuses it anyway)")
	}
	long := issueTokens(t, e, "long", 1, 24*time.Hour)[0]
	if _, err := e.Store.RevokeToken(ctx, 1001, long.Record.ID, "", revoker, store.Origin{}); err != nil {
		t.Fatal(err)
	}
	if err := cache.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if st := cache.Status(); st.Entries != 1 || !cache.Revoked(long.Token) || st.Stale {
		t.Fatalf("after the clock passed the first token's expiry: got %+v, want only the unexpired revocation kept", st)
	}
}

func TestRevocationCache_WhenTheFeedIsUnreachableTooLongItFailsOpenOrClosedAsConfigured(t *testing.T) {
	t.Parallel()
	e, key := newConsole(t)
	ctx := t.Context()
	lb := newFront(t, e.URL)
	clock := &testClock{now: time.Now()}
	c := client.New(lb.URL, key)
	opts := client.RevocationCacheOptions{MaxStaleness: time.Minute, Wait: time.Second, Now: clock.Now}
	open := client.NewRevocationCache(c, opts)
	opts.FailClosed = true
	closed := client.NewRevocationCache(c, opts)
	toks := issueTokens(t, e, "u", 2, time.Hour)
	bad, good := toks[0].Token, toks[1].Token
	if _, err := e.Store.RevokeToken(ctx, 1001, toks[0].Record.ID, "", revoker, store.Origin{}); err != nil {
		t.Fatal(err)
	}

	check := func(when string, cache *client.RevocationCache, stale, badRevoked, goodRevoked bool) {
		t.Helper()
		if got := cache.Status().Stale; got != stale {
			t.Errorf("%s: got stale %v, want %v", when, got, stale)
		}
		if got := cache.Revoked(bad); got != badRevoked {
			t.Errorf("%s: the revoked token: got revoked %v, want %v", when, got, badRevoked)
		}
		if got := cache.Revoked(good); got != goodRevoked {
			t.Errorf("%s: the good token: got revoked %v, want %v", when, got, goodRevoked)
		}
	}
	check("fail-open, before loading", open, true, false, false)
	check("fail-closed, before loading", closed, true, true, true)
	for _, cache := range []*client.RevocationCache{open, closed} {
		if err := cache.Sync(ctx); err != nil {
			t.Fatal(err)
		}
	}
	check("fail-open, loaded", open, false, true, false)
	check("fail-closed, loaded", closed, false, true, false)

	lb.switchTo("") // the console is out of reach
	for _, cache := range []*client.RevocationCache{open, closed} {
		if err := cache.Sync(ctx); !client.IsKind(err, "") {
			t.Fatalf("a read with the console out of reach: got %v, want the 502", err)
		}
	}
	clock.Advance(30 * time.Second)
	check("fail-closed, unreachable for 30 s of 60", closed, false, true, false)
	clock.Advance(31 * time.Second)
	check("fail-open, unreachable for 61 s", open, true, true, false)
	check("fail-closed, unreachable for 61 s", closed, true, true, true)

	lb.switchTo(e.URL)
	if err := closed.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	check("fail-closed, back", closed, false, true, false)
}
