package store

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// More sentinel errors for rules that are not about one field.
var (
	ErrProjectDisabled = errors.New("project is disabled")
	ErrForbidden       = errors.New("forbidden")
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
