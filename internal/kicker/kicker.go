// Package kicker delivers the kicks that revocations queue: it takes due
// kicks from the store's outbox (one instance per kick, under row locks),
// paces the calls within ZEGO's documented limits across every instance,
// calls ZEGO's kick-out action, and has the store record each attempt with
// its audit event. A passing failure is tried again later with backoff.
package kicker

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/zego"
)

// Options tune a Worker; a zero field takes its default.
type Options struct {
	Workers     int           // deliveries under way at once in this instance (4)
	Poll        time.Duration // how often to look for due kicks without a wake-up (1s)
	BackoffBase time.Duration // the first retry comes this long after a failure (2s), then twice as long each time
	BackoffMax  time.Duration // the longest wait between attempts (5m)
	MaxAttempts int           // after this many attempts a kick fails for good (12, about half an hour)
	CallTimeout time.Duration // how long one call to ZEGO may take (10s)
	Reason      string        // the CustomReason ZEGO passes to the kicked user's app ("token revoked")
}

func (o Options) withDefaults() Options {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	if o.Workers <= 0 {
		o.Workers = 4
	}
	def(&o.Poll, time.Second)
	def(&o.BackoffBase, 2*time.Second)
	def(&o.BackoffMax, 5*time.Minute)
	def(&o.CallTimeout, 10*time.Second)
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 12
	}
	if o.Reason == "" {
		o.Reason = "token revoked"
	}
	return o
}

// Worker delivers kicks.
type Worker struct {
	store *store.Store
	zego  *zego.Client
	log   *slog.Logger
	opts  Options
}

// New makes a worker that takes kicks from st and calls ZEGO with z.
func New(st *store.Store, z *zego.Client, logger *slog.Logger, opts Options) *Worker {
	return &Worker{store: st, zego: z, log: logger, opts: opts.withDefaults()}
}

// Run delivers kicks until ctx ends. A delivery under way then completes
// (ZEGO's answer is recorded) before Run returns, so that a restart neither
// loses an attempt nor makes it twice.
func (w *Worker) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for range w.opts.Workers {
		wg.Go(func() { w.loop(ctx) })
	}
	wg.Wait()
}

// loop delivers one batch after another, and waits when none is due: for a
// revocation (in any instance), the next retry, or the poll interval.
func (w *Worker) loop(ctx context.Context) {
	for ctx.Err() == nil {
		moved := w.store.FeedMoved()
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), w.opts.CallTimeout+time.Minute)
		found, err := w.store.DeliverKick(dctx, maxUsers, w.deliver)
		cancel()
		if err != nil {
			w.log.Warn("deliver kick failed", "err", err)
		}
		if found && err == nil {
			continue
		}
		wait := w.opts.Poll
		if err == nil {
			if d, ok, nerr := w.store.NextKickIn(ctx); nerr == nil && ok && d < wait {
				// A kick due now that was not found is another delivery's
				// (its room is locked): look again a little later, not at
				// once, which would keep a core busy until it is done.
				wait = max(d, w.opts.Poll/10)
			}
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
		case <-moved:
		case <-t.C:
		}
		t.Stop()
	}
}

func maxUsers(service string) int { return zego.LimitsOf(service).UsersPerCall }

// deliver makes one call, paced, and classifies ZEGO's answer.
func (w *Worker) deliver(ctx context.Context, b store.KickBatch) store.KickAttempt {
	wait, err := w.store.ReserveZegoCall(ctx, b.AppID, b.Service, zego.Spacing(b.Service))
	if err != nil {
		return w.retryOrFail(b, store.KickAttempt{Error: "could not pace the call: " + err.Error()})
	}
	if wait > 0 {
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return w.retryOrFail(b, store.KickAttempt{Error: "stopped before the call"})
		}
	}
	cctx, cancel := context.WithTimeout(ctx, w.opts.CallTimeout)
	defer cancel()
	a, err := w.zego.Kickout(cctx, zego.KickoutRequest{AppID: b.AppID, Secret: b.Secret, Service: b.Service, Region: b.Region,
		RoomID: b.RoomID, UserIDs: b.UserIDs, Reason: w.opts.Reason})
	att := store.KickAttempt{HTTPStatus: a.HTTPStatus, Message: a.Message, RequestID: a.RequestID}
	if a.HasCode {
		att.Code = &a.Code
	}
	if err != nil {
		att.Error = err.Error() // zego's errors never hold the request URL, where the signature is
	}
	switch zego.Classify(a, err) {
	case zego.OutcomeDone:
		att.State = store.KickDone
	case zego.OutcomeFail:
		att.State = store.KickFailed
	default:
		att = w.retryOrFail(b, att)
	}
	level := slog.LevelInfo
	if att.State != store.KickDone {
		level = slog.LevelWarn
	}
	w.log.Log(ctx, level, "zego kickout", "app_id", b.AppID, "service", b.Service, "room_id", b.RoomID, "users", len(b.UserIDs),
		"attempt", b.Attempt, "state", att.State, "http_status", a.HTTPStatus, "code", a.Code, "request_id", a.RequestID, "error", att.Error)
	return att
}

// retryOrFail queues another attempt after backoff, or fails the kick
// once it has had its attempts.
func (w *Worker) retryOrFail(b store.KickBatch, a store.KickAttempt) store.KickAttempt {
	if b.Attempt >= w.opts.MaxAttempts {
		a.State = store.KickFailed
		return a
	}
	a.State, a.RetryIn = store.KickQueued, w.backoff(b.Attempt)
	return a
}

// backoff is the wait after attempt n: BackoffBase doubled n-1 times, at
// most BackoffMax, plus up to a quarter more so that instances spread out.
func (w *Worker) backoff(n int) time.Duration {
	d := w.opts.BackoffBase
	for i := 1; i < n && d < w.opts.BackoffMax; i++ {
		d *= 2
	}
	d = min(d, w.opts.BackoffMax)
	return d + rand.N(d/4+1)
}
