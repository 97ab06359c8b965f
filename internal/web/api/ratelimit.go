package api

import (
	"math"
	"sync"

	"golang.org/x/time/rate"
)

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

// allow takes a token from key's bucket; when it is empty it reports how
// many whole seconds to wait.
func (l *keyLimiter) allow(key string) (retryAfter int, ok bool) {
	l.mu.Lock()
	b, found := l.buckets[key]
	if !found {
		b = rate.NewLimiter(l.rate, l.burst)
		l.buckets[key] = b
	}
	l.mu.Unlock()
	res := b.Reserve()
	if d := res.Delay(); d > 0 {
		res.Cancel()
		return int(math.Ceil(d.Seconds())), false
	}
	return 0, true
}
