package api

import (
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// rateLimitPolicyName names the per-key policy in the RateLimit fields.
const rateLimitPolicyName = `"api-key"`

// keyLimiter keeps one token bucket per API key, in this instance's memory:
// with N instances behind a balancer a key gets up to N times the rate.
type keyLimiter struct {
	mu      sync.Mutex
	rate    rate.Limit
	burst   int
	buckets map[string]*rate.Limiter
}

func newKeyLimiter(perSecond float64, burst int) *keyLimiter {
	return &keyLimiter{rate: rate.Limit(perSecond), burst: burst, buckets: map[string]*rate.Limiter{}}
}

// quota is what is left of a key's bucket after a request.
type quota struct {
	ok         bool // the request may go on
	retryAfter int  // when !ok: whole seconds until one request is allowed
	remaining  int  // requests allowed now
	reset      int  // whole seconds until the bucket is full again
}

// take takes a token from key's bucket and reports what is left; when the
// bucket is empty the request is refused and nothing is taken.
func (l *keyLimiter) take(key string) quota {
	l.mu.Lock()
	b, found := l.buckets[key]
	if !found {
		b = rate.NewLimiter(l.rate, l.burst)
		l.buckets[key] = b
	}
	l.mu.Unlock()
	now := time.Now()
	q := quota{ok: true}
	res := b.ReserveN(now, 1)
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now)
		q.ok, q.retryAfter = false, ceilSeconds(d.Seconds())
	}
	tokens := b.TokensAt(now)
	q.remaining = max(0, int(math.Floor(tokens)))
	q.reset = ceilSeconds((float64(l.burst) - tokens) / float64(l.rate))
	return q
}

// writeHeaders sets the IETF RateLimit fields (draft-ietf-httpapi-ratelimit-headers):
// the policy, a bucket of burst requests that refills in w seconds, and what
// is left of it, r requests, full again in t seconds.
func (l *keyLimiter) writeHeaders(h http.Header, q quota) {
	window := max(1, ceilSeconds(float64(l.burst)/float64(l.rate)))
	h.Set("RateLimit-Policy", rateLimitPolicyName+";q="+strconv.Itoa(l.burst)+";w="+strconv.Itoa(window))
	h.Set("RateLimit", rateLimitPolicyName+";r="+strconv.Itoa(q.remaining)+";t="+strconv.Itoa(q.reset))
}

// writeAddressHeaders sets the RateLimit fields of a request refused by its
// address's budget of refusals (web.Admit): the "address" policy, nothing
// left, full again after wait.
func writeAddressHeaders(h http.Header, rate float64, burst int, wait time.Duration) {
	window := max(1, ceilSeconds(float64(burst)/rate))
	h.Set("RateLimit-Policy", `"address";q=`+strconv.Itoa(burst)+";w="+strconv.Itoa(window))
	h.Set("RateLimit", `"address";r=0;t=`+strconv.Itoa(ceilSeconds(wait.Seconds())))
}

// ceilSeconds rounds seconds up to a whole number from 0 to MaxInt32 (NaN,
// from an infinite rate, is 0).
func ceilSeconds(s float64) int {
	if math.IsNaN(s) {
		return 0
	}
	return int(min(math.Ceil(max(s, 0)), math.MaxInt32))
}
