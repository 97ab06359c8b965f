package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/zegocloud-console/console/internal/store"
)

func TestAPIMalformedRequests_AreRefusedWithTheirProblemAndChangeNothing(t *testing.T) {
	t.Parallel()
	a := newAPIEnv(t)
	a.CreateProject(t, 1001)
	a.CreateProject(t, 2002)
	key := a.key(t, allAPIScopes, 1001)
	issueOnly := a.key(t, []string{store.ScopeIssue}, 1001)
	const (
		json   = "application/json"
		issue  = "/api/v1/projects/1001/tokens"
		revoke = "/api/v1/projects/1001/tokens/00000000-0000-4000-8000-000000000000/revoke"
	)
	recordsBefore := a.Count(t, `SELECT count(*) FROM issued_tokens`)
	big := `{"user_id":"` + strings.Repeat("a", 64<<10) + `"}`

	for _, tc := range []struct {
		name, method, path, auth, contentType, body string
		status                                      int
		slug, field                                 string
	}{
		{"unknown field", "POST", issue, key, json, `{"user_id":"a","admin":true}`, 400, "unknown-field", "admin"},
		{"field name in another case", "POST", issue, key, json, `{"User_ID":"a"}`, 400, "unknown-field", "User_ID"},
		{"repeated field", "POST", issue, key, json, `{"user_id":"a","user_id":"b"}`, 400, "malformed-json", "user_id"},
		{"user id not a string", "POST", issue, key, json, `{"user_id":42}`, 400, "wrong-type", "user_id"},
		{"ttl as a string", "POST", issue, key, json, `{"user_id":"a","ttl_seconds":"60"}`, 400, "wrong-type", "ttl_seconds"},
		{"ttl with a fraction", "POST", issue, key, json, `{"user_id":"a","ttl_seconds":1.5}`, 400, "wrong-type", "ttl_seconds"},
		{"ttl beyond int64", "POST", issue, key, json, `{"user_id":"a","ttl_seconds":99999999999999999999}`, 400, "wrong-type", "ttl_seconds"},
		{"privileges as a string", "POST", issue, key, json, `{"user_id":"a","privileges":"login"}`, 400, "wrong-type", "privileges"},
		{"stream ids of numbers", "POST", issue, key, json, `{"user_id":"a","stream_ids":[1]}`, 400, "wrong-type", "stream_ids"},
		{"body over 64 KiB", "POST", issue, key, json, big, 413, "body-too-large", ""},
		{"invalid UTF-8", "POST", issue, key, json, "{\"user_id\":\"\xc3\x28\"}", 400, "invalid-utf8", ""},
		{"user id over 64 bytes", "POST", issue, key, json, `{"user_id":"` + strings.Repeat("é", 33) + `"}`, 422, "validation", "user_id"},
		{"empty user id", "POST", issue, key, json, `{"user_id":""}`, 422, "validation", "user_id"},
		{"missing user id", "POST", issue, key, json, `{}`, 422, "validation", "user_id"},
		{"ttl above the project maximum", "POST", issue, key, json, `{"user_id":"a","ttl_seconds":86401}`, 422, "validation", "ttl_seconds"},
		{"huge ttl", "POST", issue, key, json, `{"user_id":"a","ttl_seconds":9223372036854775807}`, 422, "validation", "ttl_seconds"},
		{"negative ttl", "POST", issue, key, json, `{"user_id":"a","ttl_seconds":-60}`, 422, "validation", "ttl_seconds"},
		{"zero ttl", "POST", issue, key, json, `{"user_id":"a","ttl_seconds":0}`, 422, "validation", "ttl_seconds"},
		{"unknown mode", "POST", issue, key, json, `{"user_id":"a","mode":"ecb"}`, 422, "validation", "mode"},
		{"mode in capitals", "POST", issue, key, json, `{"user_id":"a","mode":"GCM"}`, 422, "validation", "mode"},
		{"unknown privilege", "POST", issue, key, json, `{"user_id":"a","privileges":["login","admin"]}`, 422, "validation", "privileges"},
		{"room id too long", "POST", issue, key, json, `{"user_id":"a","room_id":"` + strings.Repeat("r", 129) + `"}`, 422, "validation", "room_id"},
		{"empty stream id", "POST", issue, key, json, `{"user_id":"a","stream_ids":[""]}`, 422, "validation", "stream_ids"},
		{"text content type", "POST", issue, key, "text/plain", `{"user_id":"a"}`, 415, "unsupported-media-type", ""},
		{"form content type", "POST", issue, key, "application/x-www-form-urlencoded", `user_id=a`, 415, "unsupported-media-type", ""},
		{"no content type", "POST", issue, key, "", `{"user_id":"a"}`, 415, "unsupported-media-type", ""},
		{"empty body", "POST", issue, key, json, ``, 400, "malformed-json", ""},
		{"trailing garbage", "POST", issue, key, json, `{"user_id":"a"}garbage`, 400, "malformed-json", ""},
		{"two objects", "POST", issue, key, json, `{"user_id":"a"}{"user_id":"b"}`, 400, "malformed-json", ""},
		{"truncated JSON", "POST", issue, key, json, `{"user_id":"a"`, 400, "malformed-json", ""},
		{"array instead of object", "POST", issue, key, json, `[{"user_id":"a"}]`, 400, "wrong-type", ""},
		{"null instead of object", "POST", issue, key, json, `null`, 400, "wrong-type", ""},
		{"appId not a number", "POST", "/api/v1/projects/abc/tokens", key, json, `{"user_id":"a"}`, 404, "not-found", ""},
		{"appId 0", "POST", "/api/v1/projects/0/tokens", key, json, `{"user_id":"a"}`, 404, "not-found", ""},
		{"appId with a leading zero", "POST", "/api/v1/projects/01001/tokens", key, json, `{"user_id":"a"}`, 404, "not-found", ""},
		{"appId with a sign", "POST", "/api/v1/projects/+1001/tokens", key, json, `{"user_id":"a"}`, 404, "not-found", ""},
		{"appId beyond uint32", "POST", "/api/v1/projects/4294967296/tokens", key, json, `{"user_id":"a"}`, 404, "not-found", ""},
		{"huge appId", "POST", "/api/v1/projects/99999999999999999999999/tokens", key, json, `{"user_id":"a"}`, 404, "not-found", ""},
		{"appId of another project", "POST", "/api/v1/projects/2002/tokens", key, json, `{"user_id":"a"}`, 403, "forbidden", ""},
		{"key without the introspect scope", "POST", "/api/v1/tokens/introspect", issueOnly, json, `{"token":"04AA"}`, 403, "forbidden", ""},
		{"unknown token id", "POST", revoke, key, json, `{}`, 404, "not-found", ""},
		{"malformed token uuid", "POST", "/api/v1/projects/1001/tokens/not-a-uuid/revoke", key, json, `{}`, 404, "not-found", ""},
		{"revoke reason too long", "POST", revoke, key, json, `{"reason":"` + strings.Repeat("x", 501) + `"}`, 422, "validation", "reason"},
		{"revoke with unknown field", "POST", revoke, key, json, `{"reason":"x","force":true}`, 400, "unknown-field", "force"},
		{"user id path over 64 bytes", "POST", "/api/v1/projects/1001/users/" + strings.Repeat("u", 65) + "/revoke", key, "", ``, 422, "validation", "user_id"},
		{"NUL in the user id", "POST", issue, key, json, `{"user_id":"a\u0000b"}`, 422, "validation", "user_id"},
		{"NUL in the room id", "POST", issue, key, json, `{"user_id":"a","room_id":"r\u0000"}`, 422, "validation", "room_id"},
		{"NUL in a stream id", "POST", issue, key, json, `{"user_id":"a","stream_ids":["s\u0000"]}`, 422, "validation", "stream_ids"},
		{"NUL in a revoke reason", "POST", revoke, key, json, `{"reason":"x\u0000y"}`, 422, "validation", "reason"},
		{"NUL in a user revoke reason", "POST", "/api/v1/projects/1001/users/u1/revoke", key, json, `{"reason":"\u0000"}`, 422, "validation", "reason"},
		{"NUL in the user id path", "POST", "/api/v1/projects/1001/users/u%001/revoke", key, "", ``, 422, "validation", "user_id"},
		{"invalid UTF-8 in the user id path", "POST", "/api/v1/projects/1001/users/u%ff/revoke", key, "", ``, 422, "validation", "user_id"},
		{"NUL in a revoke-by-value reason", "POST", "/api/v1/tokens/revoke", key, json, `{"token":"04AA","reason":"\u0000"}`, 422, "validation", "reason"},
		{"revoke by value without token", "POST", "/api/v1/tokens/revoke", key, json, `{"reason":"x"}`, 422, "validation", "token"},
		{"introspect a number", "POST", "/api/v1/tokens/introspect", key, json, `{"token":4}`, 400, "wrong-type", "token"},
		{"introspect with empty body", "POST", "/api/v1/tokens/introspect", key, json, ``, 400, "malformed-json", ""},
		{"missing auth", "POST", issue, "", json, `{"user_id":"a"}`, 401, "unauthorized", ""},
		{"malformed bearer", "POST", issue, "zc_short", json, `{"user_id":"a"}`, 401, "unauthorized", ""},
		{"bearer with a space inside", "POST", issue, key[:20] + " " + key[20:], json, `{"user_id":"a"}`, 401, "unauthorized", ""},
		{"audit limit 0", "GET", "/api/v1/audit?limit=0", key, "", ``, 400, "bad-filter", "limit"},
		{"audit limit 501", "GET", "/api/v1/audit?limit=501", key, "", ``, 400, "bad-filter", "limit"},
		{"audit bad cursor", "GET", "/api/v1/audit?cursor=abc", key, "", ``, 400, "bad-cursor", "cursor"},
		{"audit bad outcome", "GET", "/api/v1/audit?outcome=maybe", key, "", ``, 400, "bad-filter", "outcome"},
		{"audit bad time", "GET", "/api/v1/audit?from=yesterday", key, "", ``, 400, "bad-filter", "from"},
		{"audit unknown parameter", "GET", "/api/v1/audit?appid=1001", key, "", ``, 400, "bad-filter", "appid"},
		{"audit repeated parameter", "GET", "/api/v1/audit?action=token.issue&action=token.revoke", key, "", ``, 400, "bad-filter", "action"},
		{"export unknown format", "GET", "/api/v1/audit/export?format=xml", key, "", ``, 400, "bad-filter", "format"},
	} {
		res := a.call(t, tc.method, tc.path, tc.auth, tc.contentType, []byte(tc.body))
		if res.status != tc.status {
			t.Errorf("%s: got status %d (%.300s), want %d", tc.name, res.status, res.body, tc.status)
			continue
		}
		p := res.problem(t)
		if want := "urn:zego-console:problem:" + tc.slug; p.Type != want {
			t.Errorf("%s: got problem type %q (%s), want %q", tc.name, p.Type, p.Detail, want)
		}
		if tc.field != "" && p.Errors[tc.field] == "" {
			t.Errorf("%s: got errors %v, want one naming %q", tc.name, p.Errors, tc.field)
		}
		if p.Detail == "" {
			t.Errorf("%s: the problem has no detail", tc.name)
		}
	}

	if n := a.Count(t, `SELECT count(*) FROM issued_tokens`); n != recordsBefore {
		t.Fatalf("got %d token records after malformed requests, want %d: a refused request changed something", n, recordsBefore)
	}
	if n := a.Count(t, `SELECT count(*) FROM audit_events WHERE action LIKE 'token.%'`); n != 0 {
		t.Fatalf("got %d token events after malformed requests, want none", n)
	}
	if res := a.post(t, issue, key, map[string]any{"user_id": "a"}); res.status != http.StatusCreated {
		t.Fatalf("a well-formed request after them: got %d, want 201", res.status)
	}
}
