package web

import (
	"net/http"
	"strconv"
	"time"
)

// SetRetryAfter tells the client to wait d before trying again: the
// Retry-After header in whole seconds, rounded up and at least 1. It
// returns those seconds for the page or problem to say.
func SetRetryAfter(w http.ResponseWriter, d time.Duration) int {
	s := max(1, int((d+time.Second-1)/time.Second))
	w.Header().Set("Retry-After", strconv.Itoa(s))
	return s
}
