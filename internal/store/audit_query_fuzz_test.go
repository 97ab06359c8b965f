package store

import (
	"bytes"
	"net/url"
	"testing"
	"time"
)

// parseQuery reads a raw query string strictly.
func parseQuery(q string) (url.Values, error) { return url.ParseQuery(q) }

// filtersEqual compares filters, times by instant.
func filtersEqual(a, b AuditFilter) bool {
	return a.AppID == b.AppID && a.Actor == b.Actor && a.Action == b.Action && a.Outcome == b.Outcome &&
		a.From.Equal(b.From) && a.To.Equal(b.To) && a.Text == b.Text && bytes.Equal(a.Fingerprint, b.Fingerprint) &&
		(a.Fingerprint == nil) == (b.Fingerprint == nil)
}

// FuzzParseAuditFilter: any query string is either refused or read into a
// filter that Values() writes back to the same filter.
func FuzzParseAuditFilter(f *testing.F) {
	for _, s := range []string{
		"", "app_id=1234567&actor=alice&action=token.*&outcome=denied",
		"from=2024-05-01&to=2024-05-02T10:00", "from=2024-05-01T15:30:00.1234567%2B02:00",
		"q=50%25+off_x", "token=04AAAABBBB==", "fingerprint=" + string(bytes.Repeat([]byte("ab"), 32)),
		"to=0001-01-01T00:00:00Z", "from=9999-12-31T23:59:59.999999999-23:59", "action=Token.Issue&q=%E2%82%AC",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, query string) {
		v, err := url.ParseQuery(query)
		if err != nil {
			return
		}
		got, err := ParseAuditFilter(v)
		if err != nil {
			if len(FieldErrors(err)) == 0 {
				t.Fatalf("%q: error without a parameter name: %v", query, err)
			}
			return
		}
		back, err := ParseAuditFilter(got.Values())
		if err != nil {
			t.Fatalf("%q: Values() %q is refused: %v", query, got.Values().Encode(), err)
		}
		if !filtersEqual(back, got) {
			t.Fatalf("%q: Values() %q reads back as %+v, want %+v", query, got.Values().Encode(), back, got)
		}
	})
}

// FuzzParseAuditCursor: a cursor is refused or holds a position whose
// cursor is exactly the input.
func FuzzParseAuditCursor(f *testing.F) {
	for _, c := range []AuditCursor{
		{OccurredAt: time.Date(2024, 5, 1, 13, 30, 0, 123456000, time.UTC), ID: 1},
		{OccurredAt: time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), ID: 1 << 62},
		{OccurredAt: time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC), ID: 7},
	} {
		f.Add(c.String())
	}
	for _, s := range []string{"", "a1", "a1AAAAAAAAAAAAAAAAAAAAAB", "a1______________________", "a1//////////////////////"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseAuditCursor(s)
		if err != nil {
			if err != ErrBadCursor {
				t.Fatalf("%q: got %v, want ErrBadCursor", s, err)
			}
			return
		}
		if c.ID <= 0 || c.String() != s {
			t.Fatalf("%q: %+v formats back as %q", s, c, c.String())
		}
	})
}
