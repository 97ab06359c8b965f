package sink

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/zegocloud-console/console/internal/store"
)

// DefaultRetrySchedule is the wait after each consecutive failure, like
// Standard Webhooks' schedule: about 2.7 days in all, after which the sink
// is disabled until an admin resumes it.
const DefaultRetrySchedule = "5s,5m,30m,2h,5h,10h,10h,14h,24h"

// Schedule is the wait after the 1st, 2nd, … consecutive failure.
type Schedule []time.Duration

// ParseSchedule reads comma-separated durations ("5s,5m,30m").
func ParseSchedule(s string) (Schedule, error) {
	var out Schedule
	for _, f := range strings.Split(s, ",") {
		d, err := time.ParseDuration(strings.TrimSpace(f))
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("%q: want positive durations separated by commas, such as %s", f, DefaultRetrySchedule)
		}
		out = append(out, d)
	}
	return out, nil
}

// Retry is a store.SinkRetry: the scheduled wait with ±20 % jitter, so
// that sinks that failed together do not retry together.
func (s Schedule) Retry(attempt int) (time.Duration, bool) {
	if attempt < 1 || attempt > len(s) {
		return 0, true
	}
	d := s[attempt-1]
	return d + time.Duration((rand.Float64()*0.4-0.2)*float64(d)), false
}

// Runner delivers for every due sink, as each console instance does; the
// store's lock lets one instance at a time deliver for a given sink.
type Runner struct {
	Store     *store.Store
	Deliverer *Deliverer
	Interval  time.Duration // how often to look for due sinks
	Batch     int           // events per delivery round; 0 means 500
	Retry     Schedule
	Parallel  int // sinks delivered to at once by this instance; 0 means 4
	Log       *slog.Logger
}

// Run delivers until ctx ends. Deliveries use their own goroutines and at
// most Parallel database connections, so a slow receiver never holds up
// token issuing; database failures are logged (at most once a minute).
func (r *Runner) Run(ctx context.Context) {
	if r.Batch <= 0 {
		r.Batch = 500
	}
	if r.Parallel <= 0 {
		r.Parallel = 4
	}
	if r.Interval <= 0 {
		r.Interval = time.Second
	}
	sem := make(chan struct{}, r.Parallel)
	var mu sync.Mutex
	busy := map[int64]bool{}
	var wg sync.WaitGroup
	defer wg.Wait()
	tick := time.NewTicker(r.Interval)
	defer tick.Stop()
	var lastLogged time.Time
	for {
		ids, err := r.Store.DueSinks(ctx)
		if err != nil && ctx.Err() == nil && time.Since(lastLogged) > time.Minute {
			r.Log.Error("audit sinks: list due sinks", "err", err)
			lastLogged = time.Now()
		}
		for _, id := range ids {
			mu.Lock()
			if busy[id] {
				mu.Unlock()
				continue
			}
			busy[id] = true
			mu.Unlock()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			wg.Go(func() {
				defer func() {
					<-sem
					mu.Lock()
					delete(busy, id)
					mu.Unlock()
				}()
				r.drain(ctx, id)
			})
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// drain delivers round after round for sink id until it has caught up,
// fails, or another instance holds it.
func (r *Runner) drain(ctx context.Context, id int64) {
	for ctx.Err() == nil {
		round, err := r.Store.DeliverSinkBatch(ctx, id, r.Batch, r.Deliverer.Send, r.Retry.Retry)
		switch {
		case err != nil:
			if ctx.Err() == nil {
				r.Log.Error("audit sink delivery", "sink", id, "err", err)
			}
			return
		case round.SendErr != nil:
			level := slog.LevelWarn
			if round.Disabled {
				level = slog.LevelError
			}
			r.Log.Log(ctx, level, "audit sink delivery failed", "sink", id, "delivered", round.Delivered,
				"cursor", round.Cursor, "disabled", round.Disabled, "err", round.SendErr)
			return
		case round.Busy || round.Read < r.Batch:
			return
		}
	}
}
