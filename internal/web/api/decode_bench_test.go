package api

import (
	"strings"
	"testing"
)

// The issue request is decoded on every API issue: strictly (field walk,
// then encoding/json) and turned into the store's request. These measure
// that cost per request, for the load run's budget.

func benchmarkDecodeIssue(b *testing.B, body string) {
	b.ReportAllocs()
	for b.Loop() {
		var in issueRequest
		if err := decodeJSONBody("application/json", "", strings.NewReader(body), &in, false); err != nil {
			b.Fatal(err)
		}
		if req := in.storeRequest(1234567); req.FieldErrors != nil {
			b.Fatal(req.FieldErrors)
		}
	}
}

// BenchmarkDecodeIssueRequest is the body a backend service typically sends.
func BenchmarkDecodeIssueRequest(b *testing.B) {
	benchmarkDecodeIssue(b, `{"user_id":"user-1234567890","ttl_seconds":3600}`)
}

// BenchmarkDecodeIssueRequestFull carries every field.
func BenchmarkDecodeIssueRequestFull(b *testing.B) {
	benchmarkDecodeIssue(b, `{"user_id":"user-1234567890","ttl_seconds":3600,"room_id":"room-42",`+
		`"privileges":["login","publish"],"stream_ids":["s1","s2","s3"],"mode":"gcm"}`)
}
