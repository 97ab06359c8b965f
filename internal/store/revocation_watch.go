package store

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// feedPollInterval is how often the watcher reads the feed's head even
// without a notification (one lost while reconnecting, say).
const feedPollInterval = 5 * time.Second

// feedWatch tells waiters when the revocation feed moves, whichever
// instance committed the revocation: one connection of its own per store
// LISTENs to the notifications of the feed trigger. It starts with the
// first waiter and stops with the store.
type feedWatch struct {
	mu      sync.Mutex
	head    int64         // the feed's seq last read; -1 before the first read
	moved   chan struct{} // closed (and renewed) when head changes
	started bool
	stop    context.CancelFunc
	done    chan struct{}
}

func newFeedWatch() *feedWatch {
	return &feedWatch{head: -1, moved: make(chan struct{}), stop: func() {}}
}

// WaitRevocations returns nil once the feed holds a revocation numbered
// above after (of any project), or ctx's error when ctx ends first. The
// kick worker waits with it too, as a revocation may have queued kicks.
func (s *Store) WaitRevocations(ctx context.Context, after int64) error {
	for {
		head, moved := s.feed.watch(s)
		if head > after {
			return nil
		}
		select {
		case <-moved:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// FeedMoved returns a channel that is closed when the revocation feed next
// moves (a revocation committed, in any instance).
func (s *Store) FeedMoved() <-chan struct{} {
	_, moved := s.feed.watch(s)
	return moved
}

// watch returns the last head read and a channel closed when it changes,
// starting the watcher on first use.
func (f *feedWatch) watch(s *Store) (int64, <-chan struct{}) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.started && s.pool != nil {
		f.started = true
		ctx, cancel := context.WithCancel(context.Background())
		f.stop, f.done = cancel, make(chan struct{})
		go s.watchFeed(ctx, f.done)
	}
	return f.head, f.moved
}

// set records the head read and wakes the waiters when it moved.
func (f *feedWatch) set(head int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if head != f.head {
		f.head = head
		close(f.moved)
		f.moved = make(chan struct{})
	}
}

// close stops the watcher and waits for it.
func (f *feedWatch) close() {
	f.mu.Lock()
	f.stop()
	done := f.done
	f.mu.Unlock()
	if done != nil {
		<-done
	}
}

// watchFeed listens until ctx ends, connecting again after a failure.
func (s *Store) watchFeed(ctx context.Context, done chan struct{}) {
	defer close(done)
	backoff := 100 * time.Millisecond
	for {
		err := s.listenFeed(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			select {
			case <-time.After(backoff):
			case <-ctx.Done():
				return
			}
			backoff = min(2*backoff, feedPollInterval)
		}
	}
}

// listenFeed reads the head after each notification (or every
// feedPollInterval) on a connection of its own, outside the pool, until
// an error or ctx's end.
func (s *Store) listenFeed(ctx context.Context) error {
	conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig.Copy())
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, `LISTEN revocations`); err != nil {
		return err
	}
	for {
		var head int64
		if err := conn.QueryRow(ctx, `SELECT seq FROM revocation_feed`).Scan(&head); err != nil {
			return err
		}
		s.feed.set(head)
		wait, cancel := context.WithTimeout(ctx, feedPollInterval)
		_, err := conn.WaitForNotification(wait)
		cancel()
		if err != nil && (ctx.Err() != nil || !errors.Is(err, context.DeadlineExceeded)) {
			return err
		}
	}
}
