package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/web"
)

// maxIdempotencyKey is the longest Idempotency-Key, in bytes (as Stripe's).
const maxIdempotencyKey = 255

// idempotency reads the request's Idempotency-Key: nil without one; with a
// fitting one (1 to 255 printable ASCII characters, sent once), what makes
// the request the same as another: its method, path and decoded body, so
// that spacing and field order do not count. On an unfit key it answers 400
// and returns false.
func (s *Server) idempotency(w http.ResponseWriter, r *http.Request, body any, appID uint32) (*store.Idempotency, bool) {
	values := r.Header.Values("Idempotency-Key")
	if len(values) == 0 {
		return nil, true
	}
	if len(values) > 1 || !printableASCII(values[0], maxIdempotencyKey) {
		s.problem(w, r, http.StatusBadRequest, "bad-idempotency-key", "The Idempotency-Key header must be sent once, as 1 to 255 printable ASCII characters.",
			map[string]string{"Idempotency-Key": "want 1 to 255 printable ASCII characters, such as a UUID"})
		return nil, false
	}
	canonical, err := json.Marshal(body)
	if err != nil {
		s.Fail(w, r, err)
		return nil, false
	}
	key, _ := web.APIKeyFrom(r)
	return &store.Idempotency{APIKeyID: key.ID, Key: values[0], AppID: appID, Actor: web.Actor(r), Origin: s.Origin(r),
		Request: bytes.Join([][]byte{[]byte(r.Method), []byte(r.URL.EscapedPath()), canonical}, []byte{0})}, true
}

// printableASCII tells whether s is 1 to max characters from space to tilde.
func printableASCII(s string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for _, c := range []byte(s) {
		if c < ' ' || c > '~' {
			return false
		}
	}
	return true
}

// jsonAnswer is a JSON answer as kept for replays of an Idempotency-Key.
func jsonAnswer(status int, location string, v any) (store.Answer, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return store.Answer{}, err
	}
	return store.Answer{Status: status, Location: location, Body: b.Bytes()}, nil
}

// writeAnswer writes a JSON answer; a replayed one says so in
// Idempotent-Replayed (as Stripe's API does).
func writeAnswer(w http.ResponseWriter, a store.Answer, replayed bool) {
	if a.Location != "" {
		w.Header().Set("Location", a.Location)
	}
	if replayed {
		w.Header().Set("Idempotent-Replayed", strconv.FormatBool(true))
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(a.Status)
	_, _ = w.Write(a.Body)
}
