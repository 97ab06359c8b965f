package token04

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseLifetime_AcceptsSecondsAndUnits(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want time.Duration
	}{
		{"3600", time.Hour},
		{"1", time.Second},
		{"0090", 90 * time.Second},
		{"90s", 90 * time.Second},
		{"15m", 15 * time.Minute},
		{"2h", 2 * time.Hour},
		{"1h30m", 90 * time.Minute},
		{"1h0m0s", time.Hour},
		{"2h30s", 2*time.Hour + 30*time.Second},
		{"7d", 7 * 24 * time.Hour},
		{"1d12h", 36 * time.Hour},
		{"  24h\n", 24 * time.Hour},
		{"3650d", MaxLifetime},
		{"87600h", MaxLifetime},
		{"315360000", MaxLifetime},
	} {
		got, err := ParseLifetime(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseLifetime(%q): got %v, %v; want %v, nil", tc.in, got, err, tc.want)
		}
	}
}

func TestParseLifetime_RefusesOtherSpellings(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"", "  ", "soon", "1.5s", "1.5h", ".5h", "500ms", "1us", "h", "1x", "1H",
		"1h 30m", "30m1h", "1h1h", "1d1d", "1h30", "+1h", "--1h", "1e3", "7 d", "d7", "1w", "１h"} {
		got, err := ParseLifetime(in)
		if !errors.Is(err, ErrLifetimeSyntax) || got != 0 {
			t.Errorf("ParseLifetime(%q): got %v, %v; want 0 and ErrLifetimeSyntax", in, got, err)
		}
	}
}

func TestParseLifetime_RefusesZeroNegativeAndOverTenYears(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"0", "0s", "0d0h", "-1h", "-3600", "-0", "3651d", "87601h", "315360001",
		"3650d1s", "99999999999999999999", "18446744073709551616s", "9223372036h"} {
		got, err := ParseLifetime(in)
		if !errors.Is(err, ErrLifetimeRange) || got != 0 {
			t.Errorf("ParseLifetime(%q): got %v, %v; want 0 and ErrLifetimeRange", in, got, err)
		}
	}
}

func TestParseLifetime_ErrorsSayWhatIsWanted(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"soon":  "whole number of seconds",
		"1.5s":  "whole number of seconds",
		"0":     "must be positive",
		"-1h":   "must be positive",
		"11y":   "such as 90s, 15m, 2h",
		"4000d": "at most 3650d",
	} {
		if _, err := ParseLifetime(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseLifetime(%q): got error %v, want it to contain %q", in, err, want)
		}
	}
}

func TestFormatLifetime_WritesTheLargestExactUnit(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   time.Duration
		want string
	}{
		{24 * time.Hour, "24h"},
		{48 * time.Hour, "48h"},
		{90 * time.Minute, "90m"},
		{30 * time.Minute, "30m"},
		{45 * time.Second, "45s"},
		{3601 * time.Second, "3601s"},
		{MaxLifetime, "87600h"},
		{0, "0s"},
		{-time.Hour, "-3600s"},
		{1500 * time.Millisecond, "1.5s"},
	} {
		if got := FormatLifetime(tc.in); got != tc.want {
			t.Errorf("FormatLifetime(%v): got %q, want %q", tc.in, got, tc.want)
		}
	}
}

// FuzzParseLifetime checks that ParseLifetime only returns lifetimes in
// range, with one of its two errors otherwise, and that FormatLifetime
// writes every lifetime so that it parses back to itself.
func FuzzParseLifetime(f *testing.F) {
	for _, s := range []string{"3600", "90s", "15m", "2h", "1h30m", "7d", "1d12h", "-1h", "0", "1.5s", "3651d", " 24h "} {
		f.Add(s, int64(3600))
	}
	f.Fuzz(func(t *testing.T, s string, seconds int64) {
		d, err := ParseLifetime(s)
		switch {
		case err != nil && !errors.Is(err, ErrLifetimeSyntax) && !errors.Is(err, ErrLifetimeRange):
			t.Fatalf("ParseLifetime(%q): got error %v, want ErrLifetimeSyntax or ErrLifetimeRange", s, err)
		case err != nil:
		case d < time.Second || d > MaxLifetime || d%time.Second != 0:
			t.Fatalf("ParseLifetime(%q): got %v, outside whole seconds from 1s to %v", s, d, MaxLifetime)
		default:
			checkLifetimeRoundTrip(t, d)
		}
		if seconds >= 1 && seconds <= int64(MaxLifetime/time.Second) {
			checkLifetimeRoundTrip(t, time.Duration(seconds)*time.Second)
		}
	})
}

func checkLifetimeRoundTrip(t *testing.T, d time.Duration) {
	t.Helper()
	if got, err := ParseLifetime(FormatLifetime(d)); err != nil || got != d {
		t.Fatalf("ParseLifetime(FormatLifetime(%v) = %q): got %v, %v; want %v", d, FormatLifetime(d), got, err, d)
	}
}
