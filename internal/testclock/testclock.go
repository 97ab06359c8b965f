// Package testclock is a clock that tests move forward instead of sleeping,
// for the components that take a clock (sign-in throttling, the per-address
// limiter of the web server).
package testclock

import (
	"sync"
	"time"
)

// Clock tells the time it was set to; safe for concurrent use.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// New returns a clock that stands at now until moved.
func New(now time.Time) *Clock { return &Clock{now: now} }

// Now is the clock's time: pass the method where a clock function is wanted.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
