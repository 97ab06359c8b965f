package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/zegocloud-console/console/internal/web"
)

// jsonWhitespace is what JSON (RFC 8259) counts as whitespace; Unicode
// spaces such as U+00A0 are not.
const jsonWhitespace = " \t\r\n"

// bodyError says why a request body was refused, as a problem: its status,
// its problem type slug, a sentence for people and the JSON fields at fault,
// each with its reason.
type bodyError struct {
	status int
	slug   string
	detail string
	fields map[string]string
}

func (e *bodyError) Error() string { return e.slug + ": " + e.detail }

func badBody(slug, detail string) *bodyError {
	return &bodyError{status: http.StatusBadRequest, slug: slug, detail: detail}
}

// fieldProblems collects what is wrong with the fields of a body, so that
// every one is reported at once; the problem type is that of the gravest.
type fieldProblems struct {
	slug   string
	fields map[string]string
}

// slugRank orders field problems from the gravest.
var slugRank = map[string]int{"malformed-json": 0, "unknown-field": 1, "wrong-type": 2}

func (p *fieldProblems) add(slug, field, reason string) {
	if p.fields == nil {
		p.fields = map[string]string{}
	}
	if _, seen := p.fields[field]; !seen {
		p.fields[field] = reason
	}
	if p.slug == "" || slugRank[slug] < slugRank[p.slug] {
		p.slug = slug
	}
}

func (p *fieldProblems) err() *bodyError {
	if len(p.fields) == 0 {
		return nil
	}
	detail := "The body has invalid fields; see errors."
	if len(p.fields) == 1 {
		for field, reason := range p.fields {
			detail = fmt.Sprintf("Field %q %s.", field, reason)
		}
	}
	return &bodyError{status: http.StatusBadRequest, slug: p.slug, detail: detail, fields: p.fields}
}

// decode reads the request's JSON body into dst strictly (see
// decodeJSONBody); on failure it answers with the problem and returns false.
func (s *Server) decode(w http.ResponseWriter, r *http.Request, dst any, allowEmpty bool) bool {
	return s.decodeUpTo(w, r, dst, allowEmpty, web.MaxBodyBytes)
}

// decodeUpTo is decode for a body of up to maxBytes.
func (s *Server) decodeUpTo(w http.ResponseWriter, r *http.Request, dst any, allowEmpty bool, maxBytes int) bool {
	body := http.MaxBytesReader(w, r.Body, int64(maxBytes))
	err := decodeJSONBodyUpTo(r.Header.Get("Content-Type"), r.Header.Get("Content-Encoding"), body, dst, allowEmpty, maxBytes)
	if err == nil {
		return true
	}
	s.problem(w, r, err.status, err.slug, err.detail, err.fields)
	return false
}

// decodeJSONBody decodes body into the struct pointer dst, refusing what a
// lenient decoder would let through: a media type other than
// application/json (415), more than web.MaxBodyBytes bytes (413), an empty body
// unless allowEmpty, invalid UTF-8 (which encoding/json would silently turn
// into U+FFFD), anything but one JSON object, field names that are unknown
// or differ in case from dst's (encoding/json matches case-insensitively),
// repeated fields, values of the wrong type (null included), and trailing
// data. Every field at fault is named at once.
func decodeJSONBody(contentType, contentEncoding string, body io.Reader, dst any, allowEmpty bool) *bodyError {
	return decodeJSONBodyUpTo(contentType, contentEncoding, body, dst, allowEmpty, web.MaxBodyBytes)
}

// decodeJSONBodyUpTo is decodeJSONBody for a body of up to maxBytes.
func decodeJSONBodyUpTo(contentType, contentEncoding string, body io.Reader, dst any, allowEmpty bool, maxBytes int) *bodyError {
	data, err := io.ReadAll(io.LimitReader(body, int64(maxBytes)+1))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) || len(data) > maxBytes {
		return &bodyError{status: http.StatusRequestEntityTooLarge, slug: "body-too-large",
			detail: fmt.Sprintf("The body is larger than %d bytes.", maxBytes)}
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
	return decodeObjectFields(data, reflect.ValueOf(dst).Elem())
}

// decodeTokenRequest reads the body of introspection and revocation by
// value: JSON, or a form as RFC 7662 and RFC 7009 clients send it
// (token, token_type_hint), where parameters the request does not name are
// ignored (RFC 6749 §3.2) and a repeated one is refused.
func (s *Server) decodeTokenRequest(w http.ResponseWriter, r *http.Request, dst any) bool {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
		return s.decode(w, r, dst, false)
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, web.MaxBodyBytes))
	var bad *bodyError
	switch {
	case err != nil:
		bad = &bodyError{status: http.StatusRequestEntityTooLarge, slug: "body-too-large",
			detail: fmt.Sprintf("The body is larger than %d bytes.", web.MaxBodyBytes)}
	case !utf8.Valid(data):
		bad = badBody("invalid-utf8", "The body is not valid UTF-8.")
	}
	form, err := url.ParseQuery(string(data))
	if bad == nil && err != nil {
		bad = badBody("malformed-json", "The form body could not be parsed.")
	}
	v := reflect.ValueOf(dst).Elem()
	var problems fieldProblems
	for name, i := range jsonFields(v.Type()) {
		switch values := form[name]; {
		case len(values) > 1:
			problems.add("malformed-json", name, "appears more than once")
		case len(values) == 1:
			v.Field(i).SetString(values[0])
		}
	}
	if bad == nil {
		bad = problems.err()
	}
	if bad != nil {
		s.problem(w, r, bad.status, bad.slug, bad.detail, bad.fields)
		return false
	}
	return true
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

// decodeObjectFields decodes data, which must be exactly one JSON object,
// into the struct v field by field, with the exact JSON names of its fields,
// and reports every unknown, repeated, null or wrong-typed field at once.
func decodeObjectFields(data []byte, v reflect.Value) *bodyError {
	fields := jsonFields(v.Type())
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return syntaxProblem(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return badBody("wrong-type", "The body must be a JSON object.")
	}
	var bad fieldProblems
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return syntaxProblem(err)
		}
		key, _ := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return syntaxProblem(err)
		}
		i, known := fields[key]
		switch {
		case !known:
			bad.add("unknown-field", key, "is not a field of this request")
		case seen[key]:
			bad.add("malformed-json", key, "appears more than once")
		default:
			seen[key] = true
			if !decodeField(raw, v.Field(i)) {
				bad.add("wrong-type", key, "must be "+jsonTypeName(v.Field(i).Type()))
			}
		}
	}
	if _, err := dec.Token(); err != nil {
		return syntaxProblem(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return badBody("malformed-json", "The body has data after its JSON object.")
	}
	return bad.err()
}

// decodeField decodes one field's value into f. No field takes null, which
// is a wrong type like any other; an integer may be written with a fraction
// of zero or an exponent (3600.0, 3.6e3), as JSON Schema counts it.
func decodeField(raw json.RawMessage, f reflect.Value) bool {
	if string(raw) == "null" {
		return false
	}
	if json.Unmarshal(raw, f.Addr().Interface()) == nil {
		return true
	}
	t := f.Type()
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	n, ok := integral(raw)
	if !ok || t.Kind() < reflect.Int || t.Kind() > reflect.Int64 || reflect.Zero(t).OverflowInt(n) {
		return false
	}
	if f.Kind() == reflect.Pointer {
		f.Set(reflect.New(t))
		f = f.Elem()
	}
	f.SetInt(n)
	return true
}

// integral reads a JSON number with an integral value that a float64 holds
// exactly; short, so that no exponent costs time.
func integral(raw []byte) (int64, bool) {
	if len(raw) > 32 {
		return 0, false
	}
	x, err := strconv.ParseFloat(string(raw), 64)
	if err != nil || x != math.Trunc(x) || math.Abs(x) > 1<<53 {
		return 0, false
	}
	return int64(x), true
}

func syntaxProblem(err error) *bodyError {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return badBody("malformed-json", fmt.Sprintf("The body is not valid JSON (at byte %d).", syn.Offset))
	}
	return badBody("malformed-json", "The body is not valid JSON.")
}

// jsonFields maps the JSON names of the fields of struct t to their indices.
func jsonFields(t reflect.Type) map[string]int {
	names := make(map[string]int, t.NumField())
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			names[name] = i
		}
	}
	return names
}

// jsonTypeName says in JSON's words what a Go type accepts.
func jsonTypeName(t reflect.Type) string {
	if t == reflect.TypeFor[json.RawMessage]() { // decoded later, as an object
		return "an object"
	}
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
