package client

import (
	"context"
	"time"
)

// SetSleep replaces how c waits before a retry, so that tests can see the
// waits it chose without waiting them.
func SetSleep(c *Client, sleep func(ctx context.Context, d time.Duration) error) { c.sleep = sleep }
