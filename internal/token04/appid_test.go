package token04

import (
	"errors"
	"strconv"
	"strings"
	"testing"
)

func TestParseAppID_AcceptsCanonicalDecimals(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]uint32{
		"1":               1,
		"1234567":         1234567,
		"4294967295":      4294967295,
		"  900001\n":      900001,
		"\t42 ":           42,
		"\u00a0123\u2003": 123,
	} {
		got, err := ParseAppID(in)
		if err != nil || got != want {
			t.Errorf("ParseAppID(%q): got %d, %v; want %d, nil", in, got, err, want)
		}
	}
}

func TestParseAppID_RefusesAnythingElse(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"", " ", "0", "00", "0123", "+5", "-5", "1e3", "12 34", "1_000", "0x10",
		"4294967296", "99999999999999999999999", "١٢٣", "12a", "1.0", "²"} {
		got, err := ParseAppID(in)
		if !errors.Is(err, ErrAppIDSyntax) || got != 0 {
			t.Errorf("ParseAppID(%q): got %d, %v; want 0 and ErrAppIDSyntax", in, got, err)
		}
	}
}

func TestParseAppID_ErrorSaysWhatAnAppIDIs(t *testing.T) {
	t.Parallel()
	const want = "must be a ZEGO AppID: a whole number from 1 to 4294967295"
	for _, in := range []string{"x", "4294967296"} {
		if _, err := ParseAppID(in); err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("ParseAppID(%q): got error %v, want it to start with %q", in, err, want)
		}
	}
	if _, err := ParseAppID("4294967296"); err == nil || !strings.Contains(err.Error(), "does not fit") {
		t.Errorf("ParseAppID(4294967296): got error %v, want it to say the number does not fit", err)
	}
}

// FuzzParseAppID checks that an accepted text is one canonical number, and
// that every AppID's canonical text is accepted.
func FuzzParseAppID(f *testing.F) {
	for _, s := range []string{"1", "4294967295", "4294967296", " 07 ", "+1", "", "1 2"} {
		f.Add(s, uint32(1))
	}
	f.Fuzz(func(t *testing.T, s string, n uint32) {
		got, err := ParseAppID(s)
		switch {
		case err != nil && !errors.Is(err, ErrAppIDSyntax):
			t.Fatalf("ParseAppID(%q): got error %v, want one wrapping ErrAppIDSyntax", s, err)
		case err == nil && (got == 0 || strconv.FormatUint(uint64(got), 10) != strings.TrimSpace(s)):
			t.Fatalf("ParseAppID(%q): got %d, which is not the text's one spelling", s, got)
		}
		if n == 0 {
			return
		}
		if got, err := ParseAppID(strconv.FormatUint(uint64(n), 10)); err != nil || got != n {
			t.Fatalf("ParseAppID(%d): got %d, %v; want %d, nil", n, got, err, n)
		}
	})
}
