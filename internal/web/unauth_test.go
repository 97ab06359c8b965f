package web

import (
	"fmt"
	"testing"
	"time"
)

func TestAddressKey_AnIPv6ClientCountsAsItsSlash64(t *testing.T) {
	t.Parallel()
	for ip, want := range map[string]string{
		"203.0.113.9":                  "203.0.113.9",
		"2001:db8:1:2:aaaa::1":         "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff:ffff:0:42":  "2001:db8:1:2::/64",
		"2001:db8:1:3::1":              "2001:db8:1:3::/64",
		"::ffff:203.0.113.9":           "::ffff:203.0.113.9",
		"not an address (a bad proxy)": "not an address (a bad proxy)",
	} {
		if got := addressKey(ip); got != want {
			t.Errorf("addressKey(%q): got %q, want %q", ip, got, want)
		}
	}
}

func TestUnauthGate_ForgetsAddressesWhoseBucketIsFullAgain(t *testing.T) {
	t.Parallel()
	now := time.Now()
	g := newUnauthGate(1, 2, func() time.Time { return now })
	for i := range 1024 {
		g.bucket(fmt.Sprintf("192.0.2.%d/%d", i%256, i), now).ReserveN(now, 1)
	}
	now = now.Add(2 * time.Second) // every bucket has refilled
	g.bucket("198.51.100.1", now)
	if n := len(g.buckets); n != 1 {
		t.Fatalf("buckets after the sweep: got %d, want 1 (the new address)", n)
	}
}
