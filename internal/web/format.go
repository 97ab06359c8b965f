package web

import "time"

// MaxBodyBytes bounds every request body the console reads: a posted form
// or an API request's JSON.
const MaxBodyBytes = 64 << 10

// RFC3339 writes a time as the API and datetime attributes show it: UTC,
// whole seconds.
func RFC3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }
