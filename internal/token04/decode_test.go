package token04

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestDecode_RejectsAlteredCiphertext(t *testing.T) {
	t.Parallel()
	for _, mode := range []Mode{ModeGCM, ModeCBC} {
		token, _ := generate(t, mode)
		raw := decodeRaw(t, token)
		l, _ := parseLayout(bytes.Clone(raw))
		ctStart := len(raw) - len(l.ciphertext)
		if mode == ModeGCM {
			ctStart-- // the mode byte follows the ciphertext
		}
		for i := range len(l.ciphertext) {
			for _, bit := range []byte{0x01, 0x80} {
				tampered := bytes.Clone(raw)
				tampered[ctStart+i] ^= bit
				_, err := Decode(encodeRaw(tampered), testSecret, DecodeOptions{Now: testNow})
				if !errors.Is(err, ErrAuthentication) {
					t.Fatalf("%v: flipping bit %#x of ciphertext byte %d: got %v, want %v", mode, bit, i, err, ErrAuthentication)
				}
			}
		}
	}
}

func TestDecode_RejectsAlteredGCMNonce(t *testing.T) {
	t.Parallel()
	token, _ := generate(t, ModeGCM)
	raw := decodeRaw(t, token)
	for i := range gcmNonceLength {
		tampered := bytes.Clone(raw)
		tampered[headerLength+i] ^= 0x04
		if _, err := Decode(encodeRaw(tampered), testSecret, DecodeOptions{Now: testNow}); !errors.Is(err, ErrAuthentication) {
			t.Errorf("flipping nonce byte %d: got %v, want %v", i, err, ErrAuthentication)
		}
	}
}

func TestDecode_RejectsAlteredHeaderExpire(t *testing.T) {
	t.Parallel()
	for _, mode := range []Mode{ModeGCM, ModeCBC} {
		token, _ := generate(t, mode)
		for i := range 8 {
			raw := decodeRaw(t, token)
			raw[i] ^= 0x10 // the header is not covered by the cipher: only the sealed copy tells
			_, err := Decode(encodeRaw(raw), testSecret, DecodeOptions{Now: testNow})
			if !errors.Is(err, ErrExpireMismatch) {
				t.Errorf("%v: flipping expire byte %d: got %v, want %v", mode, i, err, ErrExpireMismatch)
			}
		}
	}
}

func TestDecode_RejectsEveryTruncation(t *testing.T) {
	t.Parallel()
	for _, mode := range []Mode{ModeGCM, ModeCBC} {
		token, _ := generate(t, mode)
		for n := range len(token) {
			_, err := Decode(token[:n], testSecret, DecodeOptions{Now: testNow})
			ok := errors.Is(err, ErrTruncated) || errors.Is(err, ErrBase64) || (n < 2 && errors.Is(err, ErrNotVersion04))
			if !ok {
				t.Errorf("%v: token cut to %d characters: got %v, want %v or %v", mode, n, err, ErrTruncated, ErrBase64)
			}
		}
		raw := decodeRaw(t, token)
		for n := range len(raw) {
			if _, err := Decode(encodeRaw(raw[:n]), testSecret, DecodeOptions{Now: testNow}); !errors.Is(err, ErrTruncated) {
				t.Errorf("%v: binary token cut to %d bytes: got %v, want %v", mode, n, err, ErrTruncated)
			}
		}
		if _, err := Decode(encodeRaw(append(raw, 1, 1)), testSecret, DecodeOptions{Now: testNow}); !errors.Is(err, ErrTruncated) {
			t.Errorf("%v: two extra bytes: got %v, want %v", mode, err, ErrTruncated)
		}
	}
}

func TestDecode_NamesEachReasonForRefusal(t *testing.T) {
	t.Parallel()
	gcm, claims := generate(t, ModeGCM)
	cbc, _ := generate(t, ModeCBC)
	gcmRaw, cbcRaw := decodeRaw(t, gcm), decodeRaw(t, cbc)
	otherSecret := []byte("fedcba9876543210fedcba9876543210")
	modeByte2 := bytes.Clone(gcmRaw)
	modeByte2[len(modeByte2)-1] = 2
	shortNonce := layoutBytes(claims.Expire, []byte("12345678"), make([]byte, 32), ModeCBC)
	emptyCBC := layoutBytes(claims.Expire, make([]byte, 16), nil, ModeCBC)
	ragged := layoutBytes(claims.Expire, make([]byte, 16), make([]byte, 20), ModeCBC)
	now := DecodeOptions{Now: testNow}
	for _, tc := range []struct {
		name   string
		token  string
		secret []byte
		opt    DecodeOptions
		want   error
	}{
		{"empty token", "", testSecret, now, ErrNotVersion04},
		{"version 03", "03" + gcm[2:], testSecret, now, ErrNotVersion04},
		{"not base64", "04!!!!", testSecret, now, ErrBase64},
		{"unpadded base64", gcm[:len(gcm)-1], testSecret, now, ErrBase64},
		{"mode byte 0x02", encodeRaw(modeByte2), testSecret, now, ErrUnknownMode},
		{"mode byte after a CBC IV", encodeRaw(append(bytes.Clone(cbcRaw), 1)), testSecret, now, ErrUnknownMode},
		{"8-byte nonce", encodeRaw(shortNonce), testSecret, now, ErrUnknownMode},
		{"GCM without its mode byte", encodeRaw(gcmRaw[:len(gcmRaw)-1]), testSecret, now, ErrTruncated},
		{"CBC without ciphertext", encodeRaw(emptyCBC), testSecret, now, ErrTruncated},
		{"CBC ciphertext of 20 bytes", encodeRaw(ragged), testSecret, now, ErrTruncated},
		{"GCM with another secret", gcm, otherSecret, now, ErrAuthentication},
		{"CBC with another secret", cbc, otherSecret, now, ErrAuthentication},
		{"secret of 31 bytes", gcm, testSecret[:31], now, ErrSecretLength},
		{"GCM at expire", gcm, testSecret, DecodeOptions{Now: time.Unix(claims.Expire, 0)}, ErrExpired},
		{"CBC a year late", cbc, testSecret, DecodeOptions{Now: testNow.AddDate(1, 0, 0)}, ErrExpired},
		{"ctime 301 s ahead", gcm, testSecret, DecodeOptions{Now: testNow.Add(-301 * time.Second)}, ErrNotYetValid},
		{"another app id", gcm, testSecret, DecodeOptions{Now: testNow, ExpectAppID: 999}, ErrAppIDMismatch},
		{"another app id, expired", cbc, testSecret, DecodeOptions{Now: testNow.AddDate(1, 0, 0), ExpectAppID: 999}, ErrAppIDMismatch},
	} {
		d, err := Decode(tc.token, tc.secret, tc.opt)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, err, tc.want)
		}
		// Only refusals about time and app id come with the (authentic) claims.
		withClaims := errors.Is(err, ErrExpired) || errors.Is(err, ErrNotYetValid) || errors.Is(err, ErrAppIDMismatch)
		if withClaims != (d != Decoded{}) {
			t.Errorf("%s: got decoded %+v with %v, want claims only for time and app id refusals", tc.name, d, err)
		}
	}
}

func TestDecode_AcceptsTheEdgesOfTheValidityWindow(t *testing.T) {
	t.Parallel()
	token, claims := generate(t, ModeGCM)
	for _, now := range []int64{claims.CTime - ClockSkew, claims.CTime, claims.Expire - 1} {
		if _, err := Decode(token, testSecret, DecodeOptions{Now: time.Unix(now, 0), ExpectAppID: claims.AppID}); err != nil {
			t.Errorf("now = %d (ctime %d, expire %d): got %v, want no error", now, claims.CTime, claims.Expire, err)
		}
	}
}

func TestDecode_ReadsClaimsJSONInAnyOrderAndEscaping(t *testing.T) {
	t.Parallel()
	plaintext := " {\"payload\" : \"\\u003c\\/p\\u003e\", \"nonce\":-2147483648,\"expire\":1800003600,\n" +
		"\"ctime\":1800000000, \"user_id\":\"\\u7528\\ud83d\\ude00\", \"app_id\":4294967295, \"extra\":[1]} "
	want := Claims{AppID: 4294967295, UserID: "用😀", CTime: 1800000000, Expire: 1800003600, Nonce: -2147483648, Payload: "</p>"}
	for _, mode := range []Mode{ModeGCM, ModeCBC} {
		d, err := Decode(forgeToken(t, mode, testSecret, want.Expire, []byte(plaintext)), testSecret, DecodeOptions{Now: testNow})
		if err != nil || d.Claims != want {
			t.Errorf("%v: got %+v, %v, want %+v", mode, d.Claims, err, want)
		}
	}
}

func TestDecode_RejectsSealedTextThatIsNotClaims(t *testing.T) {
	t.Parallel()
	const expire = 1800003600
	valid := `"user_id":"u","ctime":1800000000,"expire":1800003600,"nonce":1,"payload":""`
	for _, plaintext := range []string{
		"not json",
		"null",
		`["app_id"]`,
		`{"app_id":1,` + valid + `} trailing`,
		`{` + valid + `}`,                     // app_id missing
		`{"app_id":4294967296,` + valid + `}`, // app_id beyond uint32
		`{"app_id":-1,` + valid + `}`,         // negative app_id
		`{"app_id":1.0,` + valid + `}`,        // not an integer
		`{"app_id":"1",` + valid + `}`,        // a string
		`{"APP_ID":1,` + valid + `}`,          // keys match exactly
		`{"app_id":1,"user_id":null,"ctime":1800000000,"expire":1800003600,"nonce":1,"payload":""}`,
		`{"app_id":1,"user_id":"u","ctime":1800000000,"expire":1800003600,"nonce":2147483648,"payload":""}`,
		"{\"app_id\":1,\"user_id\":\"\xff\",\"ctime\":1800000000,\"expire\":1800003600,\"nonce\":1,\"payload\":\"\"}",
	} {
		_, err := Decode(forgeToken(t, ModeGCM, testSecret, expire, []byte(plaintext)), testSecret, DecodeOptions{Now: testNow})
		if !errors.Is(err, ErrClaimsNotJSON) {
			t.Errorf("GCM sealing %s: got %v, want %v", plaintext, err, ErrClaimsNotJSON)
		}
		// CBC has no integrity: such a plaintext cannot be told from a wrong key.
		_, err = Decode(forgeToken(t, ModeCBC, testSecret, expire, []byte(plaintext)), testSecret, DecodeOptions{Now: testNow})
		if !errors.Is(err, ErrAuthentication) {
			t.Errorf("CBC sealing %s: got %v, want %v", plaintext, err, ErrAuthentication)
		}
	}
}

func TestDecode_ErrorsSayWhatWasFound(t *testing.T) {
	t.Parallel()
	token, claims := generate(t, ModeGCM)
	_, err := Decode(token, testSecret, DecodeOptions{Now: time.Unix(claims.Expire+5, 0)})
	if want := fmt.Sprintf("token04: token expired at %s", time.Unix(claims.Expire, 0).UTC().Format(time.RFC3339)); err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
	raw := decodeRaw(t, token)
	binary.BigEndian.PutUint16(raw[8:], 99)
	if _, err := Decode(encodeRaw(raw), testSecret, DecodeOptions{}); err == nil || !errors.Is(err, ErrTruncated) {
		t.Errorf("nonce length 99: got %v, want %v", err, ErrTruncated)
	}
}

func TestDecode_AcceptsOnlyTheCanonicalSpelling(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	for _, mode := range []Mode{ModeGCM, ModeCBC} {
		tok, _, err := Generate(Params{AppID: 1, UserID: "u", Secret: secret, EffectiveSeconds: 60, Mode: mode})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Decode(tok, secret, DecodeOptions{}); err != nil {
			t.Fatalf("%v: canonical token: %v", mode, err)
		}
		// The same bytes under other strings would have other fingerprints.
		variants := map[string]string{
			"line break":      tok[:10] + "\n" + tok[10:],
			"carriage return": tok[:10] + "\r" + tok[10:],
		}
		// Set the unused low bits of the last base64 character, if it has any.
		body := strings.TrimRight(tok, "=")
		if pad := len(tok) - len(body); pad > 0 {
			const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
			last := strings.IndexByte(alphabet, body[len(body)-1])
			variants["unused bits set"] = body[:len(body)-1] + string(alphabet[last^1]) + tok[len(body):]
		}
		for name, v := range variants {
			if v == tok {
				continue
			}
			if _, err := Decode(v, secret, DecodeOptions{}); !errors.Is(err, ErrBase64) {
				t.Errorf("%v, %s: got %v, want ErrBase64", mode, name, err)
			}
		}
	}
}
