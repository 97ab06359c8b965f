package client

import (
	"context"
	"time"
)

// SetSleep replaces how c waits before a retry, so that tests can see the
// waits it chose without waiting them.
func SetSleep(c *Client, sleep func(ctx context.Context, d time.Duration) error) { c.sleep = sleep }

// Sleep is how a client waits by default, for hooks that record and wait.
var Sleep = sleepCtx
