package web

import "time"

// MaxBodyBytes bounds every request body the console reads: a posted form
// or an API request's JSON, but for a batch of tokens.
const MaxBodyBytes = 64 << 10

// MaxBatchBodyBytes bounds the body of a batch issue (the API's JSON, the
// UI's list of users): a thousand tokens with rooms, privileges and a few
// stream ids each.
const MaxBatchBodyBytes = 1 << 20

// RFC3339 writes a time as the API and datetime attributes show it: UTC,
// whole seconds.
func RFC3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }
