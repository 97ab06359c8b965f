package web

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/zegocloud-console/console/internal/store"
)

// tallyWindow is how long refusals of one address are counted together
// before their tally becomes one audit event.
const (
	tallyWindow     = time.Minute
	tallyWindowText = "1m"
)

// unauthGate keeps, in this instance's memory, a budget of refusals per
// client address for requests that are not authenticated yet (API keys,
// sign-ins): a token bucket that a refusal spends and a request that
// authenticates gives back. Past it, requests are refused before their
// credentials are looked at and counted, per address and action, in a
// tally that becomes one audit event per window instead of one per request.
type unauthGate struct {
	now     func() time.Time
	rate    rate.Limit
	burst   int
	mu      sync.Mutex
	buckets map[string]*rate.Limiter
	sweepAt int // sweep the buckets that are full again when there are more than this
	tallies map[tallyKey]*tally
}

type tallyKey struct{ address, action string }

// tally counts the refusals of one address and action in one window; first
// is the event of the first, the model of the tally's audit event.
type tally struct {
	start, last time.Time
	n           int
	first       store.Event
}

func newUnauthGate(perSecond float64, burst int, now func() time.Time) *unauthGate {
	if now == nil {
		now = time.Now
	}
	return &unauthGate{now: now, rate: rate.Limit(perSecond), burst: burst, sweepAt: 1024,
		buckets: map[string]*rate.Limiter{}, tallies: map[tallyKey]*tally{}}
}

// An Admission is a request let through its address's budget of refusals
// before its credentials are looked at; Refused spends a share of that
// budget when they turn out wrong. Only refusals spend it, so that any number
// of concurrent requests with good credentials from one address go through
// (a budget taken up front and given back would refuse the requests past
// its size while they are in flight). Concurrent refusals may each be let
// through before the first of them spends: the budget is exceeded by at most
// the requests in flight.
type Admission struct {
	bucket *rate.Limiter
	now    func() time.Time
}

// Refused spends the admission's share of the budget: its credentials were
// wrong, or its sign-in throttled.
func (a Admission) Refused() {
	if a.bucket != nil {
		a.bucket.AllowN(a.now(), 1)
	}
}

// Admit lets a request through when its address has budget of refusals
// left, before its credentials are looked at. With none left it returns how long
// to wait (the caller answers 429 with Retry-After) after counting the
// request in its address's tally for action (authz.denied or
// auth.login_failed) instead of auditing it on its own. When that tally's
// window has ended, its event is written first; an error means it could not
// be, and the caller answers the error (503), as for any refusal that cannot
// be audited.
func (s *Server) Admit(r *http.Request, action string) (Admission, time.Duration, error) {
	g := s.unauth
	now := g.now()
	address := addressKey(s.ClientIP(r))
	b := g.bucket(address, now)
	tokens := b.TokensAt(now)
	if tokens >= 1 {
		return Admission{bucket: b, now: g.now}, 0, nil
	}
	wait := time.Duration((1 - tokens) / float64(g.rate) * float64(time.Second))
	e := store.Event{Actor: store.Actor{Type: store.ActorAnonymous}, Origin: s.Origin(r), Action: action,
		Outcome: store.OutcomeDenied, TargetType: "route", TargetID: r.Method + " " + r.URL.EscapedPath()}
	e.Origin.ClientIP = address
	if due := g.count(tallyKey{address, action}, e, now); due != nil {
		if err := s.writeTally(r.Context(), due, RequestID(r)); err != nil {
			g.putBack(tallyKey{address, action}, due)
			return Admission{}, wait, err
		}
	}
	return Admission{}, wait, nil
}

// bucket returns the token bucket of address, making it on first use. When
// the buckets grow numerous, those that are full again are dropped: a new
// one would be the same.
func (g *unauthGate) bucket(address string, now time.Time) *rate.Limiter {
	g.mu.Lock()
	defer g.mu.Unlock()
	b, ok := g.buckets[address]
	if ok {
		return b
	}
	if len(g.buckets) >= g.sweepAt {
		for a, b := range g.buckets {
			if b.TokensAt(now) >= float64(g.burst) {
				delete(g.buckets, a)
			}
		}
		g.sweepAt = max(1024, 2*len(g.buckets))
	}
	b = rate.NewLimiter(g.rate, g.burst)
	g.buckets[address] = b
	return b
}

// count adds a refused request to the tally of k and returns the tally of
// k's previous window when that has ended, for the caller to write.
func (g *unauthGate) count(k tallyKey, e store.Event, now time.Time) (due *tally) {
	g.mu.Lock()
	defer g.mu.Unlock()
	t := g.tallies[k]
	if t != nil && !now.Before(t.start.Add(tallyWindow)) {
		due, t = t, nil
	}
	if t == nil {
		t = &tally{start: now, first: e}
		g.tallies[k] = t
	}
	t.n++
	t.last = now
	return due
}

// putBack returns a tally that could not be written: its refusals join
// those counted since, under its older start, so that the next refusal (or
// flush) tries again.
func (g *unauthGate) putBack(k tallyKey, t *tally) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if cur := g.tallies[k]; cur != nil {
		t.n += cur.n
		t.last = cur.last
	}
	g.tallies[k] = t
}

// FlushRefusals writes the tallies of refused requests whose window has
// ended, or all of them when all is set (at shutdown, and in tests). A tally
// that cannot be written is kept for the next flush; the errors are returned.
func (s *Server) FlushRefusals(ctx context.Context, all bool) error {
	g := s.unauth
	now := g.now()
	g.mu.Lock()
	due := map[tallyKey]*tally{}
	for k, t := range g.tallies {
		if all || !now.Before(t.start.Add(tallyWindow)) {
			due[k] = t
			delete(g.tallies, k)
		}
	}
	g.mu.Unlock()
	var errs []error
	for k, t := range due {
		if err := s.writeTally(ctx, t, ""); err != nil {
			g.putBack(k, t)
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// writeTally audits a tally as one event like its first refusal's, with how
// many it counts and when, written during the request requestID (if any).
func (s *Server) writeTally(ctx context.Context, t *tally, requestID string) error {
	e := t.first
	e.Origin.RequestID = requestID
	e.Details = map[string]any{"reason": "too many refused requests from this address", "repeated": t.n,
		"window": tallyWindowText, "first_at": t.start.UTC().Format(time.RFC3339), "last_at": t.last.UTC().Format(time.RFC3339)}
	return s.Store.Audit(context.WithoutCancel(ctx), e)
}

// addressKey is whose budget a client address spends: the address itself,
// or for IPv6 its /64, which one client commonly holds whole.
func addressKey(ip string) string {
	a := net.ParseIP(ip)
	if a == nil || a.To4() != nil {
		return ip
	}
	return (&net.IPNet{IP: a.Mask(net.CIDRMask(64, 128)), Mask: net.CIDRMask(64, 128)}).String()
}
