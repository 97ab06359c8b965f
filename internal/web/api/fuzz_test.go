package api

import (
	"bytes"
	"encoding/json"
	"maps"
	"reflect"
	"slices"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/zegocloud-console/console/internal/token04"
	"github.com/zegocloud-console/console/internal/web"
)

// The fuzz targets feed decodeJSONBody arbitrary Content-Types and bodies.
// Their committed seed corpus is in testdata/fuzz/<target>/; run one with
//
//	go test -run x -fuzz FuzzDecodeIssueRequest -fuzztime 60s ./internal/web/
//
// Properties: no panic; a refusal is a 400, 413 or 415 with a known problem
// type; an accepted body is valid UTF-8, one JSON object, sent as
// application/json; what was decoded encodes and strictly decodes back to
// itself; the handler's next step (storeRequest) never panics.

var bodyProblemSlugs = map[string]bool{"body-too-large": true, "unsupported-media-type": true, "malformed-json": true,
	"unknown-field": true, "wrong-type": true, "invalid-utf8": true}

func fuzzDecode[T any](f *testing.F, allowEmpty bool, seeds []string, next func(*testing.T, *T)) {
	for _, s := range seeds {
		f.Add("application/json", []byte(s))
	}
	f.Add("text/plain", []byte(`{}`))
	f.Add("application/json; charset=utf-8", []byte("{\"a\":\"\xff\"}"))
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		var dst T
		if err := decodeJSONBody(contentType, "", bytes.NewReader(body), &dst, allowEmpty); err != nil {
			if !bodyProblemSlugs[err.slug] || (err.status != 400 && err.status != 413 && err.status != 415) {
				t.Fatalf("refused with %d %q: want 400, 413 or 415 and a known problem type", err.status, err.slug)
			}
			if err.detail == "" || slices.Contains(slices.Collect(maps.Values(err.fields)), "") {
				t.Fatalf("refusal %+v lacks a detail or a field reason", err)
			}
			return
		}
		if len(bytes.Trim(body, jsonWhitespace)) == 0 {
			if !allowEmpty {
				t.Fatalf("accepted an empty body")
			}
			return
		}
		if !utf8.Valid(body) || !json.Valid(body) || !isJSONMediaType(contentType) || len(body) > web.MaxBodyBytes {
			t.Fatalf("accepted %q sent as %q", body, contentType)
		}
		if !bytes.HasPrefix(bytes.Trim(body, jsonWhitespace), []byte("{")) {
			t.Fatalf("accepted a body that is not an object: %q", body)
		}
		encoded, err := json.Marshal(dst)
		if err != nil {
			t.Fatal(err)
		}
		var again T
		if err := decodeJSONBody("application/json", "", bytes.NewReader(encoded), &again, allowEmpty); err != nil {
			t.Fatalf("re-encoded %s is refused: %v", encoded, err)
		}
		if !reflect.DeepEqual(dst, again) {
			t.Fatalf("round trip changed %+v into %+v", dst, again)
		}
		next(t, &dst)
	})
}

func FuzzDecodeIssueRequest(f *testing.F) {
	fuzzDecode(f, false, []string{
		`{"user_id":"alice"}`,
		`{"user_id":"alice","ttl_seconds":3600,"room_id":"room-1","privileges":["login","publish"],"stream_ids":["s1"],"mode":"cbc"}`,
		`{"user_id":"a","privileges":[]}`,
		`{"user_id":"a","ttl_seconds":-1}`,
		`{"user_id":"a","ttl_seconds":9223372036854775807}`,
		`{"user_id":"a","mode":"GCM"}`,
		`{"user_id":null,"stream_ids":null}`,
		`{"User_Id":"a"}`,
	}, func(t *testing.T, in *issueRequest) {
		req := in.storeRequest(42)
		if req.FieldErrors != nil {
			return
		}
		if req.AppID != 42 || req.TTL < 0 || (in.TTLSeconds != nil && req.TTL < time.Second) {
			t.Fatalf("storeRequest(%+v) = %+v", in, req)
		}
		if req.Mode != token04.ModeGCM && req.Mode != token04.ModeCBC {
			t.Fatalf("storeRequest chose mode %v", req.Mode)
		}
	})
}

func FuzzDecodeRevokeRequest(f *testing.F) {
	fuzzDecode(f, true, []string{``, `{}`, `{"reason":"lost phone"}`, `{"reason":""}`, `{"reason":1}`}, func(*testing.T, *reasonRequest) {})
}

func FuzzDecodeTokenRevokeRequest(f *testing.F) {
	fuzzDecode(f, false, []string{`{"token":"04AAAA"}`, `{"token":"04AAAA","reason":"leaked"}`, `{"token":["04"]}`},
		func(*testing.T, *tokenRevokeRequest) {})
}

func FuzzDecodeIntrospectRequest(f *testing.F) {
	fuzzDecode(f, false, []string{`{"token":"04AAAA"}`, `{"token":""}`, `{"token":"04","token":"05"}`},
		func(*testing.T, *introspectRequest) {})
}
