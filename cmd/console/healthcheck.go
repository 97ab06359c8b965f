package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"
)

// runHealthcheck asks a running console on CONSOLE_ADDR whether it is ready:
// the container health check, for images that have no curl.
func runHealthcheck(ctx context.Context, e env, args []string) error {
	if len(args) > 0 {
		if args[0] == "-h" || args[0] == "--help" {
			fmt.Fprintln(e.stdout, "Usage: console healthcheck\n\nExits 0 when the console on CONSOLE_ADDR answers /readyz with 200.")
			return nil
		}
		return usageError("healthcheck takes no arguments")
	}
	addr := e.getenv("CONSOLE_ADDR")
	if addr == "" {
		addr = ":8080"
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return usageError("CONSOLE_ADDR=%q: %v", addr, err)
	}
	if host == "" || strings.Trim(host, "[]:0.") == "" {
		host = "127.0.0.1"
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+net.JoinHostPort(host, port)+"/readyz", nil)
	if err != nil {
		return err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("not ready: %w", err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("not ready: /readyz answered %s", res.Status)
	}
	return nil
}
