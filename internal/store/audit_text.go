package store

import (
	"errors"
	"strings"
	"unicode/utf8"
)

// ErrAuditWrite marks a failure to write an audit event. An action whose
// event cannot be written is refused (fail closed), and so is a denial: a
// refused request that leaves no record is not answered as if it had.
var ErrAuditWrite = errors.New("audit event not written")

// Longest texts an audit row keeps, in bytes; a longer text is cut on a
// character boundary.
const (
	maxAuditField     = 256  // actor, target type, request id, client address, user agent
	maxAuditTargetID  = 1024 // "METHOD /path" of a refused request
	maxAuditDetailStr = 2048 // each string inside details
)

// auditText makes a text that came from outside safe to store and to show:
// valid UTF-8 (invalid bytes become U+FFFD), no NUL (PostgreSQL text and
// jsonb cannot hold it), at most max bytes cut on a character boundary. It
// is the one place where audit rows are cleaned, so a client cannot keep its
// request out of the trail by sending bytes the database refuses.
func auditText(s string, max int) string {
	if utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 && len(s) <= max {
		return s
	}
	s = strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

// auditDetails cleans every string inside an event's details (map keys,
// values, list items) with auditText; other values pass unchanged.
func auditDetails(v any) any {
	switch v := v.(type) {
	case string:
		return auditText(v, maxAuditDetailStr)
	case []string:
		out := make([]string, len(v))
		for i, s := range v {
			out[i] = auditText(s, maxAuditDetailStr)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = auditDetails(x)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[auditText(k, maxAuditField)] = auditDetails(x)
		}
		return out
	default:
		return v
	}
}
