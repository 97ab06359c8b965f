package api

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/zegocloud-console/console/internal/web"
)

func TestAPIDecode_RefusesWhatALenientDecoderAccepts(t *testing.T) {
	t.Parallel()
	const json = "application/json"
	for _, tc := range []struct {
		name, contentType, body string
		status                  int
		slug, field             string
	}{
		{"case-folded field name", json, `{"USER_ID":"a"}`, 400, "unknown-field", "USER_ID"},
		{"unknown field", json, `{"user_id":"a","admin":true}`, 400, "unknown-field", "admin"},
		{"repeated field", json, `{"user_id":"a","user_id":"b"}`, 400, "malformed-json", "user_id"},
		{"string for number", json, `{"user_id":"a","ttl_seconds":"60"}`, 400, "wrong-type", "ttl_seconds"},
		{"fraction for number", json, `{"user_id":"a","ttl_seconds":1.5}`, 400, "wrong-type", "ttl_seconds"},
		{"number beyond int64", json, `{"user_id":"a","ttl_seconds":1e30}`, 400, "wrong-type", "ttl_seconds"},
		{"string for list", json, `{"user_id":"a","privileges":"login"}`, 400, "wrong-type", "privileges"},
		{"number in list", json, `{"user_id":"a","privileges":[1]}`, 400, "wrong-type", "privileges"},
		{"null for a string", json, `{"user_id":null}`, 400, "wrong-type", "user_id"},
		{"null for an optional field", json, `{"user_id":"a","room_id":null}`, 400, "wrong-type", "room_id"},
		{"array body", json, `[{"user_id":"a"}]`, 400, "wrong-type", ""},
		{"string body", json, `"a"`, 400, "wrong-type", ""},
		{"null body", json, `null`, 400, "wrong-type", ""},
		{"trailing object", json, `{"user_id":"a"}{}`, 400, "malformed-json", ""},
		{"trailing garbage", json, `{"user_id":"a"} x`, 400, "malformed-json", ""},
		{"unterminated", json, `{"user_id":"a"`, 400, "malformed-json", ""},
		{"invalid UTF-8", json, "{\"user_id\":\"\xff\"}", 400, "invalid-utf8", ""},
		{"empty", json, ``, 400, "malformed-json", ""},
		{"blank", json, " \n\t", 400, "malformed-json", ""},
		{"no content type", "", `{"user_id":"a"}`, 415, "unsupported-media-type", ""},
		{"form content type", "application/x-www-form-urlencoded", `{"user_id":"a"}`, 415, "unsupported-media-type", ""},
		{"latin-1 charset", "application/json; charset=iso-8859-1", `{"user_id":"a"}`, 415, "unsupported-media-type", ""},
		{"too large", json, `{"user_id":"` + strings.Repeat("a", web.MaxBodyBytes) + `"}`, 413, "body-too-large", ""},
	} {
		var dst issueRequest
		err := decodeJSONBody(tc.contentType, "", strings.NewReader(tc.body), &dst, false)
		if err == nil {
			t.Errorf("%s: decoded %+v, want %d %s", tc.name, dst, tc.status, tc.slug)
			continue
		}
		if err.status != tc.status || err.slug != tc.slug || (tc.field == "" && err.fields != nil) || (tc.field != "" && err.fields[tc.field] == "") {
			t.Errorf("%s: got %d %s fields %v (%s), want %d %s field %q", tc.name, err.status, err.slug, err.fields, err.detail, tc.status, tc.slug, tc.field)
		}
	}
}

func TestAPIDecode_AcceptsStrictJSON(t *testing.T) {
	t.Parallel()
	var dst issueRequest
	body := ` {"user_id":"ünï","ttl_seconds":60,"privileges":["login"],"stream_ids":[],"mode":"cbc","room_id":"r"} `
	if err := decodeJSONBody("Application/JSON; charset=UTF-8", "identity", strings.NewReader(body), &dst, false); err != nil {
		t.Fatalf("got %v, want the body decoded", err)
	}
	if dst.UserID != "ünï" || *dst.TTLSeconds != 60 || dst.Mode != "cbc" || len(dst.Privileges) != 1 || dst.StreamIDs == nil {
		t.Fatalf("got %+v", dst)
	}
}

func TestAPIDecode_EmptyBodyAllowedOnlyWhereSaid(t *testing.T) {
	t.Parallel()
	var dst reasonRequest
	if err := decodeJSONBody("", "", strings.NewReader(""), &dst, true); err != nil {
		t.Fatalf("empty body without Content-Type where allowed: got %v, want nil", err)
	}
	if err := decodeJSONBody("text/plain", "", strings.NewReader(`{"reason":"x"}`), &dst, true); err == nil || err.status != 415 {
		t.Fatalf("non-empty text/plain body: got %v, want 415", err)
	}
	if err := decodeJSONBody("application/json", "gzip", strings.NewReader(`{"reason":"x"}`), &dst, true); err == nil || err.status != 415 {
		t.Fatalf("gzip-encoded body: got %v, want 415", err)
	}
}

func TestAPIDecode_MaxBytesReaderErrorIs413(t *testing.T) {
	t.Parallel()
	body := http.MaxBytesReader(nil, nopCloser{bytes.NewReader(make([]byte, web.MaxBodyBytes+10))}, web.MaxBodyBytes)
	var dst reasonRequest
	if err := decodeJSONBody("application/json", "", body, &dst, false); err == nil || err.status != http.StatusRequestEntityTooLarge {
		t.Fatalf("got %v, want 413", err)
	}
}

type nopCloser struct{ *bytes.Reader }

func (nopCloser) Close() error { return nil }
