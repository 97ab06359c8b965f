package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/zegocloud-console/console/internal/web"
)

// jsonWhitespace is what JSON (RFC 8259) counts as whitespace; Unicode
// spaces such as U+00A0 are not.
const jsonWhitespace = " \t\r\n"

// bodyError says why a request body was refused, as a problem: its status,
// its problem type slug, a sentence for people and the JSON field at fault.
type bodyError struct {
	status int
	slug   string
	detail string
	field  string
	reason string // the field's error message, when field is set
}

func (e *bodyError) Error() string { return e.slug + ": " + e.detail }

func badBody(slug, detail string) *bodyError {
	return &bodyError{status: http.StatusBadRequest, slug: slug, detail: detail}
}

func badField(slug, field, reason string) *bodyError {
	return &bodyError{status: http.StatusBadRequest, slug: slug, field: field, reason: reason,
		detail: fmt.Sprintf("Field %q %s.", field, reason)}
}

// decode reads the request's JSON body into dst strictly (see
// decodeJSONBody); on failure it answers with the problem and returns false.
func (s *Server) decode(w http.ResponseWriter, r *http.Request, dst any, allowEmpty bool) bool {
	body := http.MaxBytesReader(w, r.Body, web.MaxBodyBytes)
	err := decodeJSONBody(r.Header.Get("Content-Type"), r.Header.Get("Content-Encoding"), body, dst, allowEmpty)
	if err == nil {
		return true
	}
	var fields map[string]string
	if err.field != "" {
		fields = map[string]string{err.field: err.reason}
	}
	s.problem(w, r, err.status, err.slug, err.detail, fields)
	return false
}

// decodeJSONBody decodes body into the struct pointer dst, refusing what a
// lenient decoder would let through: a media type other than
// application/json (415), more than web.MaxBodyBytes bytes (413), an empty body
// unless allowEmpty, invalid UTF-8 (which encoding/json would silently turn
// into U+FFFD), anything but one JSON object, field names that are unknown
// or differ in case from dst's (encoding/json matches case-insensitively),
// repeated fields, values of the wrong type, and trailing data.
func decodeJSONBody(contentType, contentEncoding string, body io.Reader, dst any, allowEmpty bool) *bodyError {
	data, err := io.ReadAll(io.LimitReader(body, web.MaxBodyBytes+1))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) || len(data) > web.MaxBodyBytes {
		return &bodyError{status: http.StatusRequestEntityTooLarge, slug: "body-too-large",
			detail: fmt.Sprintf("The body is larger than %d bytes.", web.MaxBodyBytes)}
	}
	if err != nil {
		return badBody("malformed-json", "The body could not be read.")
	}
	empty := len(bytes.Trim(data, jsonWhitespace)) == 0
	if empty && allowEmpty {
		return nil
	}
	if !isJSONMediaType(contentType) || (contentEncoding != "" && !strings.EqualFold(contentEncoding, "identity")) {
		return &bodyError{status: http.StatusUnsupportedMediaType, slug: "unsupported-media-type",
			detail: "Send the body as 'Content-Type: application/json', uncompressed."}
	}
	if empty {
		return badBody("malformed-json", "The body is empty; send a JSON object.")
	}
	if !utf8.Valid(data) {
		return badBody("invalid-utf8", "The body is not valid UTF-8.")
	}
	if err := checkObjectFields(data, jsonFieldNames(dst)); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field != "" {
			return badField("wrong-type", typeErr.Field, "must be "+jsonTypeName(typeErr.Type))
		}
		return badBody("malformed-json", "The body is not valid JSON for this request.")
	}
	return nil
}

// isJSONMediaType accepts application/json with, at most, a UTF-8 charset.
func isJSONMediaType(contentType string) bool {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil || mt != "application/json" {
		return false
	}
	cs, ok := params["charset"]
	return !ok || strings.EqualFold(cs, "utf-8")
}

// checkObjectFields walks the top level of data: it must be exactly one JSON
// object whose keys are all in fields, each at most once.
func checkObjectFields(data []byte, fields map[string]bool) *bodyError {
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return syntaxProblem(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return badBody("wrong-type", "The body must be a JSON object.")
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return syntaxProblem(err)
		}
		key, _ := tok.(string)
		if !fields[key] {
			return badField("unknown-field", key, "is not a field of this request")
		}
		if seen[key] {
			return badField("malformed-json", key, "appears more than once")
		}
		seen[key] = true
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return syntaxProblem(err)
		}
	}
	if _, err := dec.Token(); err != nil {
		return syntaxProblem(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return badBody("malformed-json", "The body has data after its JSON object.")
	}
	return nil
}

func syntaxProblem(err error) *bodyError {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return badBody("malformed-json", fmt.Sprintf("The body is not valid JSON (at byte %d).", syn.Offset))
	}
	return badBody("malformed-json", "The body is not valid JSON.")
}

// jsonFieldNames lists the JSON names of the fields of the struct dst points to.
func jsonFieldNames(dst any) map[string]bool {
	t := reflect.TypeOf(dst).Elem()
	names := make(map[string]bool, t.NumField())
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			names[name] = true
		}
	}
	return names
}

// jsonTypeName says in JSON's words what a Go type accepts.
func jsonTypeName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number within range"
	case reflect.Slice, reflect.Array:
		return "an array of " + strings.TrimPrefix(strings.TrimPrefix(jsonTypeName(t.Elem()), "a "), "an ") + "s"
	case reflect.Pointer:
		return jsonTypeName(t.Elem())
	default:
		return "an object"
	}
}
