package token04

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// awkwardStrings are user ids and payloads that a JSON writer can get wrong.
var awkwardStrings = []string{
	"alice",
	"用户-ü-😀",
	`quote " backslash \ slash /`,
	"<script>&amp;</script>",
	"controls \x00\x01\b\f\n\r\t\x1f\x7f end",
	"line\u2028para\u2029sep",
	"emoji 👩‍👩‍👧 and combining é",
	"\ufffd is a real replacement char",
	`{"room_id":"r<&>\"q\\","privilege":{"1":1,"2":1},"stream_id_list":["s1","s2"]}`,
}

func TestGenerate_RoundTripsInBothModes(t *testing.T) {
	t.Parallel()
	for _, mode := range []Mode{ModeGCM, ModeCBC} {
		for i, s := range awkwardStrings {
			userID := s
			if len(userID) > MaxUserIDLength {
				userID = "u"
			}
			p := Params{AppID: 4294967295, UserID: userID, Secret: testSecret, EffectiveSeconds: 90,
				Payload: s, Mode: mode, Now: testNow}
			token, claims, err := Generate(p)
			if err != nil {
				t.Fatalf("%v/%d: generate: %v", mode, i, err)
			}
			want := Claims{AppID: p.AppID, UserID: userID, CTime: testNow.Unix(), Expire: testNow.Unix() + 90,
				Nonce: claims.Nonce, Payload: s}
			if claims != want {
				t.Errorf("%v/%d: got claims %+v, want %+v", mode, i, claims, want)
			}

			d, err := Decode(token, testSecret, DecodeOptions{Now: testNow, ExpectAppID: p.AppID})
			if err != nil || d.Claims != claims || d.Mode != mode {
				t.Errorf("%v/%d: Decode got %+v, %v, want %+v in mode %v", mode, i, d, err, claims, mode)
			}

			// The independent reader must see the same claims, and the
			// hand-written JSON must be what encoding/json writes.
			w := independentDecode(t, token, testSecret)
			if w.mode != mode.String() || w.expire != claims.Expire {
				t.Errorf("%v/%d: got mode %s expire %d, want %v %d", mode, i, w.mode, w.expire, mode, claims.Expire)
			}
			if got := claimsFromJSON(t, w.plaintext); got != claims {
				t.Errorf("%v/%d: encoding/json read %+v, want %+v", mode, i, got, claims)
			}
			if ref, _ := json.Marshal(claims); !bytes.Equal(w.plaintext, ref) {
				t.Errorf("%v/%d: got plaintext %s, want %s", mode, i, w.plaintext, ref)
			}
		}
	}
}

func TestAppendJSONString_MatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	// appendJSONString needs valid UTF-8 (Generate refuses the rest), so every
	// ASCII byte plus the multi-byte runes near the escaping rules.
	inputs := append([]string{"", "\u2027\u2028\u2029\u202a", "\xe2\x80\xa8", "end \xe2\x80\xa9", "\u00e2\u0080"}, awkwardStrings...)
	var all strings.Builder
	for c := range utf8.RuneSelf {
		all.WriteByte(byte(c))
	}
	inputs = append(inputs, all.String())
	for _, s := range inputs {
		want, _ := json.Marshal(s)
		got := appendJSONString(nil, s)
		if !bytes.Equal(got, want) {
			t.Errorf("%q: got %s, want %s", s, got, want)
		}
		if n := jsonStringLength(s); n != len(want) {
			t.Errorf("%q: got length %d, want %d", s, n, len(want))
		}
	}
}

func TestGenerate_RejectsInvalidParams(t *testing.T) {
	t.Parallel()
	valid := Params{AppID: 1, UserID: "u", Secret: testSecret, EffectiveSeconds: 60, Now: testNow}
	for _, tc := range []struct {
		name string
		edit func(*Params)
		want error
	}{
		{"app id zero", func(p *Params) { p.AppID = 0 }, ErrAppIDZero},
		{"user id empty", func(p *Params) { p.UserID = "" }, ErrUserIDEmpty},
		{"user id of 65 bytes", func(p *Params) { p.UserID = strings.Repeat("u", 65) }, ErrUserIDTooLong},
		{"user id of invalid UTF-8", func(p *Params) { p.UserID = "a\xffb" }, ErrUserIDNotUTF8},
		{"payload of invalid UTF-8", func(p *Params) { p.Payload = "\xc3" }, ErrPayloadNotUTF8},
		{"payload over 64 KiB", func(p *Params) { p.Payload = strings.Repeat("p", 70000) }, ErrPayloadTooLong},
		{"payload sealing to over 64 KiB", func(p *Params) { p.Payload = strings.Repeat("p", 65500) }, ErrPayloadTooLong},
		{"secret of 31 bytes", func(p *Params) { p.Secret = testSecret[:31] }, ErrSecretLength},
		{"secret of 33 bytes", func(p *Params) { p.Secret = append(bytes.Clone(testSecret), 'x') }, ErrSecretLength},
		{"secret missing", func(p *Params) { p.Secret = nil }, ErrSecretLength},
		{"effective time zero", func(p *Params) { p.EffectiveSeconds = 0 }, ErrEffectiveTime},
		{"effective time negative", func(p *Params) { p.EffectiveSeconds = -1 }, ErrEffectiveTime},
		{"expire overflowing int64", func(p *Params) { p.EffectiveSeconds = 1<<63 - 1 }, ErrEffectiveTime},
		{"unknown mode", func(p *Params) { p.Mode = 2 }, ErrUnknownMode},
	} {
		p := valid
		tc.edit(&p)
		token, _, err := Generate(p)
		if !errors.Is(err, tc.want) || token != "" {
			t.Errorf("%s: got %q, %v, want %v", tc.name, token, err, tc.want)
		}
	}
	p := valid
	p.UserID = strings.Repeat("é", 32) // 64 bytes exactly
	if _, _, err := Generate(p); err != nil {
		t.Errorf("user id of 64 bytes: got %v, want no error", err)
	}
}

func TestGenerate_UsesTheClockWhenNowIsZero(t *testing.T) {
	t.Parallel()
	before := time.Now().Unix()
	_, claims, err := Generate(Params{AppID: 1, UserID: "u", Secret: testSecret, EffectiveSeconds: 60})
	if err != nil {
		t.Fatal(err)
	}
	if claims.CTime < before || claims.CTime > time.Now().Unix() || claims.Expire != claims.CTime+60 {
		t.Errorf("got ctime %d expire %d, want now (%d) and now+60", claims.CTime, claims.Expire, before)
	}
}

func TestGenerate_NeverRepeatsANonce(t *testing.T) {
	t.Parallel()
	for _, mode := range []Mode{ModeGCM, ModeCBC} {
		seen := make(map[string]bool, 1000)
		for range 1000 {
			token, _ := generate(t, mode)
			l, err := parseLayout(decodeRaw(t, token))
			if err != nil {
				t.Fatal(err)
			}
			seen[string(l.nonce)] = true
		}
		if len(seen) != 1000 {
			t.Errorf("%v: got %d distinct nonces in 1000 tokens, want 1000", mode, len(seen))
		}
	}
}

func TestGenerate_ModeDefaultsToGCM(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	tok, _, err := Generate(Params{AppID: 1, UserID: "u", Secret: secret, EffectiveSeconds: 60})
	if err != nil {
		t.Fatal(err)
	}
	dec, err := Decode(tok, secret, DecodeOptions{})
	if err != nil || dec.Mode != ModeGCM {
		t.Fatalf("got mode %v, %v; want gcm when Params.Mode is left unset", dec.Mode, err)
	}
}
