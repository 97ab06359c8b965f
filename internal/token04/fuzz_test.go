package token04

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"
	"unicode/utf8"
)

// fuzzNow lies in the lifetime of the official vectors, so that they and
// their mutations get past the time checks.
var fuzzNow = time.Unix(1795899300, 0)

// decodeErrors are every reason Decode may give; anything else is a bug.
var decodeErrors = []error{ErrSecretLength, ErrNotVersion04, ErrBase64, ErrTruncated, ErrUnknownMode,
	ErrAuthentication, ErrClaimsNotJSON, ErrExpireMismatch, ErrExpired, ErrNotYetValid, ErrAppIDMismatch}

// FuzzDecode feeds Decode arbitrary tokens and secrets. Each input is tried
// as a token and also as the binary layout of one, because mutations of base64
// text mostly break the base64 and would rarely reach the layout parser.
func FuzzDecode(f *testing.F) {
	for _, v := range loadOfficialVectors(f) {
		f.Add(v.Token, v.Secret)
	}
	for _, mode := range []Mode{ModeGCM, ModeCBC} {
		token, _ := generate(f, mode)
		f.Add(token, string(testSecret))
		f.Add(string(decodeRaw(f, token)), string(testSecret))
	}
	f.Fuzz(func(t *testing.T, token, secret string) {
		checkDecode(t, token, secret)
		checkDecode(t, "04"+base64.StdEncoding.EncodeToString([]byte(token)), secret)
	})
}

func checkDecode(t *testing.T, token, secret string) {
	d, err := Decode(token, []byte(secret), DecodeOptions{Now: fuzzNow})
	known := false
	for _, e := range decodeErrors {
		known = known || errors.Is(err, e)
	}
	if err != nil && !known {
		t.Fatalf("Decode(%q): got unknown error %v", token, err)
	}
	if err != nil && !errors.Is(err, ErrExpired) && !errors.Is(err, ErrNotYetValid) {
		if d != (Decoded{}) {
			t.Fatalf("Decode(%q): got %+v with %v, want no claims", token, d, err)
		}
		return
	}

	// The token verified: its clear header must agree with the sealed claims,
	// which must be what encoding/json reads them to be.
	raw, _ := base64.StdEncoding.DecodeString(token[2:])
	if expire := int64(binary.BigEndian.Uint64(raw)); expire != d.Claims.Expire {
		t.Fatalf("Decode(%q): got claims expire %d, header %d", token, d.Claims.Expire, expire)
	}
	if !utf8.ValidString(d.Claims.UserID) || !utf8.ValidString(d.Claims.Payload) {
		t.Fatalf("Decode(%q): got claims that are not UTF-8: %+v", token, d.Claims)
	}
	// Re-encoding the claims must give a token that decodes to the same claims.
	issued := time.Unix(d.Claims.CTime, 0)
	if d.Claims.AppID == 0 || d.Claims.UserID == "" || len(d.Claims.UserID) > MaxUserIDLength ||
		d.Claims.Expire <= d.Claims.CTime || issued.IsZero() { // a zero Now means "the clock"
		return // claims a generator refuses to make
	}
	again, claims, err := Generate(Params{AppID: d.Claims.AppID, UserID: d.Claims.UserID, Secret: []byte(secret),
		EffectiveSeconds: d.Claims.Expire - d.Claims.CTime, Payload: d.Claims.Payload, Mode: d.Mode, Now: issued})
	if errors.Is(err, ErrPayloadTooLong) || errors.Is(err, ErrEffectiveTime) {
		return // our escaping may be longer than the original's; a lifetime past int64
	}
	if err != nil {
		t.Fatalf("Generate from decoded claims %+v: %v", d.Claims, err)
	}
	d2, err := Decode(again, []byte(secret), DecodeOptions{Now: issued})
	if err != nil || d2.Claims != claims || d2.Mode != d.Mode {
		t.Fatalf("re-encoded %+v: got %+v, %v", claims, d2, err)
	}
	claims.Nonce = d.Claims.Nonce
	if claims != d.Claims {
		t.Fatalf("re-encoded claims %+v, want %+v", claims, d.Claims)
	}
}

// FuzzParsePrivilege checks that ParsePrivilege never panics, refuses with
// ErrNotPrivilegePayload, and accepts only what Payload renders back to the same value.
func FuzzParsePrivilege(f *testing.F) {
	for _, v := range loadOfficialVectors(f) {
		f.Add(v.Payload)
	}
	f.Add(`{"room_id":"","privilege":{"1":0,"2":1},"stream_id_list":[]}`)
	f.Add(`{"privilege":{"2":1,"1":1},"room_id":"\u00e9"}`)
	f.Fuzz(func(t *testing.T, payload string) {
		p, err := ParsePrivilege(payload)
		if err != nil {
			if !errors.Is(err, ErrNotPrivilegePayload) || !reflect.DeepEqual(p, Privilege{}) {
				t.Fatalf("ParsePrivilege(%q): got %+v, %v", payload, p, err)
			}
			return
		}
		again, err := ParsePrivilege(p.Payload())
		if err != nil || !reflect.DeepEqual(again, p) {
			t.Fatalf("ParsePrivilege(%q) = %+v renders %s, which parses to %+v, %v", payload, p, p.Payload(), again, err)
		}
	})
}

// FuzzAppendJSONString holds the hand-written JSON escaper against encoding/json.
func FuzzAppendJSONString(f *testing.F) {
	for _, s := range awkwardStrings {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return // Generate refuses these before escaping
		}
		want, _ := json.Marshal(s)
		if got := appendJSONString(nil, s); string(got) != string(want) {
			t.Fatalf("%q: got %s, want %s", s, got, want)
		}
		if n := jsonStringLength(s); n != len(want) {
			t.Fatalf("%q: got length %d, want %d", s, n, len(want))
		}
	})
}
