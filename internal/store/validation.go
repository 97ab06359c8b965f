package store

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/zegocloud-console/console/internal/token04"
)

// More sentinel errors for rules that are not about one field.
var (
	ErrProjectDisabled = errors.New("project is disabled")
	ErrForbidden       = errors.New("forbidden")
	// ErrProjectDeleted means the project was deleted while a token was
	// being made for it: nothing was issued.
	ErrProjectDeleted = errors.New("project was deleted while the token was being issued")
	// ErrSecretRotated means the project's ServerSecret was rotated while a
	// token was being sealed with the previous one: nothing was issued, and
	// issuing again uses the new secret.
	ErrSecretRotated = errors.New("project secret was rotated while the token was being issued")
)

// ValidationError lists what is wrong with an input, field by field. The UI
// shows each message beside its field; the API returns them as problem+json
// field errors.
type ValidationError struct {
	Fields map[string]string // field name (as in the API's JSON) -> reason
}

// Error joins the field messages in a stable order.
func (e *ValidationError) Error() string {
	names := make([]string, 0, len(e.Fields))
	for n := range e.Fields {
		names = append(names, n)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = n + ": " + e.Fields[n]
	}
	return "invalid input: " + strings.Join(parts, "; ")
}

// validator collects field errors; err() is nil when there are none.
type validator map[string]string

func (v validator) check(ok bool, field, format string, a ...any) {
	if !ok {
		if _, seen := v[field]; !seen {
			v[field] = fmt.Sprintf(format, a...)
		}
	}
}

// checkText refuses what a PostgreSQL text column cannot hold, invalid UTF-8
// and NUL, as an error on field rather than a failed statement.
func (v validator) checkText(field, s string) {
	v.check(utf8.ValidString(s), field, "must be valid UTF-8")
	v.check(!containsNUL(s), field, "must not contain NUL characters")
}

// checkUserID applies ZEGO's rule for user ids (token04.ValidateUserID) and
// checkText: the one check of every call that takes a user id.
func (v validator) checkUserID(id string) {
	err := token04.ValidateUserID(id)
	v.check(!errors.Is(err, token04.ErrUserIDEmpty), "user_id", "is required")
	v.check(!errors.Is(err, token04.ErrUserIDTooLong), "user_id", "must be at most %d bytes (got %d)", token04.MaxUserIDLength, len(id))
	v.checkText("user_id", id)
}

// checkReason bounds the free-text reason of a revocation.
func (v validator) checkReason(reason string) {
	v.check(utf8.RuneCountInString(reason) <= maxReasonLength, "reason", "must be at most %d characters", maxReasonLength)
	v.checkText("reason", reason)
}

// maxReasonLength is the longest revocation reason, in characters.
const maxReasonLength = 500

// containsNUL tells whether s holds a byte PostgreSQL text cannot store.
func containsNUL(s string) bool { return strings.IndexByte(s, 0) >= 0 }

func (v validator) err() error {
	if len(v) == 0 {
		return nil
	}
	return &ValidationError{Fields: v}
}

// FieldErrors returns the field messages of err when it is a ValidationError.
func FieldErrors(err error) map[string]string {
	var ve *ValidationError
	if errors.As(err, &ve) {
		return ve.Fields
	}
	return nil
}

var uuidRe = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
