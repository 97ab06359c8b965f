package token04

import (
	"errors"
	"strconv"
	"strings"
	"time"
)

// MaxLifetime is the longest lifetime ParseLifetime accepts: ten years of
// days. Token04 itself only needs expire to fit an int64, which every
// lifetime up to this does for millennia.
const MaxLifetime = 3650 * 24 * time.Hour

// Errors of ParseLifetime, worded to stand beside a form field or after a
// flag and its value.
var (
	// ErrLifetimeSyntax means the text is not written as a lifetime.
	ErrLifetimeSyntax = errors.New("is neither a duration such as 90s, 15m, 2h, 1h30m or 7d nor a whole number of seconds such as 3600")
	// ErrLifetimeRange means the lifetime is zero, negative, or longer than MaxLifetime.
	ErrLifetimeRange = errors.New("must be positive and at most 3650d")
)

// lifetimeUnits are the units a lifetime may use, largest first: each may
// appear once, in this order ("1d12h", "1h30m", "90s").
var lifetimeUnits = [...]struct {
	name byte
	size time.Duration
}{{'d', 24 * time.Hour}, {'h', time.Hour}, {'m', time.Minute}, {'s', time.Second}}

// ParseLifetime reads a token or key lifetime as people type it: whole
// seconds ("3600") or whole numbers of days, hours, minutes and seconds in
// that order ("7d", "2h", "1h30m", "90s"), with surrounding white space
// ignored. Fractions, signs and other units are refused, and the result lies
// between one second and MaxLifetime. Errors wrap ErrLifetimeSyntax or
// ErrLifetimeRange.
func ParseLifetime(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if rest, negative := strings.CutPrefix(s, "-"); negative {
		if _, err := parseLifetimeParts(rest); errors.Is(err, ErrLifetimeSyntax) {
			return 0, err
		}
		return 0, ErrLifetimeRange
	}
	d, err := parseLifetimeParts(s)
	if err != nil {
		return 0, err
	}
	if d < time.Second {
		return 0, ErrLifetimeRange
	}
	return d, nil
}

// parseLifetimeParts reads the unsigned forms ParseLifetime accepts. The
// whole text is checked for syntax before any number is added up, and the
// total is bounded as it grows, so that it cannot overflow.
func parseLifetimeParts(s string) (time.Duration, error) {
	type part struct {
		number string
		unit   time.Duration
	}
	var parts []part
	switch digits := leadingDigits(s); {
	case s == "":
		return 0, ErrLifetimeSyntax
	case digits == len(s): // bare digits are seconds
		parts, s = []part{{s, time.Second}}, ""
	}
	for next := 0; s != ""; {
		digits := leadingDigits(s)
		if digits == 0 || digits == len(s) { // no number, or a number without its unit
			return 0, ErrLifetimeSyntax
		}
		i := next
		for i < len(lifetimeUnits) && lifetimeUnits[i].name != s[digits] {
			i++
		}
		if i == len(lifetimeUnits) {
			return 0, ErrLifetimeSyntax
		}
		parts = append(parts, part{s[:digits], lifetimeUnits[i].size})
		s, next = s[digits+1:], i+1
	}
	var total time.Duration
	for _, p := range parts {
		n, err := strconv.ParseUint(p.number, 10, 64)
		if err != nil || n > uint64(MaxLifetime/p.unit) {
			return 0, ErrLifetimeRange
		}
		if total += time.Duration(n) * p.unit; total > MaxLifetime {
			return 0, ErrLifetimeRange
		}
	}
	return total, nil
}

// leadingDigits is how many ASCII digits s starts with.
func leadingDigits(s string) int {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i
}

// FormatLifetime writes a lifetime in the largest unit that keeps it exact:
// "24h", "90m", "45s", so that ParseLifetime(FormatLifetime(d)) == d for
// every lifetime ParseLifetime accepts. A duration with a fraction of a second
// is written as time.Duration.String does.
func FormatLifetime(d time.Duration) string {
	switch {
	case d > 0 && d%time.Hour == 0:
		return strconv.FormatInt(int64(d/time.Hour), 10) + "h"
	case d > 0 && d%time.Minute == 0:
		return strconv.FormatInt(int64(d/time.Minute), 10) + "m"
	case d%time.Second == 0:
		return strconv.FormatInt(int64(d/time.Second), 10) + "s"
	}
	return d.String()
}
