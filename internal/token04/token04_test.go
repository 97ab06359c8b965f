package token04

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"testing"
	"time"
)

// The helpers below re-implement the wire format from its description alone,
// independently of the package code, so that the tests check Generate's
// hand-written JSON and layout against encoding/json and crypto/cipher.

var testSecret = []byte("0123456789abcdef0123456789abcdef")

// testNow is a fixed issue time for deterministic claims.
var testNow = time.Unix(1_800_000_000, 0)

// wire is a token taken apart by independentDecode.
type wire struct {
	expire    int64
	nonce     []byte
	mode      string
	plaintext []byte
}

// independentDecode opens a token following the format description only.
func independentDecode(t *testing.T, token string, secret []byte) wire {
	t.Helper()
	if token[:2] != "04" {
		t.Fatalf("got prefix %q, want %q", token[:2], "04")
	}
	raw, err := base64.StdEncoding.DecodeString(token[2:])
	if err != nil {
		t.Fatalf("base64: %v", err)
	}
	r := bytes.NewReader(raw)
	var w wire
	var nonceLen, ctLen uint16
	must(t, binary.Read(r, binary.BigEndian, &w.expire))
	must(t, binary.Read(r, binary.BigEndian, &nonceLen))
	w.nonce = make([]byte, nonceLen)
	must(t, binary.Read(r, binary.BigEndian, w.nonce))
	must(t, binary.Read(r, binary.BigEndian, &ctLen))
	ct := make([]byte, ctLen)
	must(t, binary.Read(r, binary.BigEndian, ct))
	block, err := aes.NewCipher(secret)
	must(t, err)
	switch r.Len() {
	case 1:
		if b, _ := r.ReadByte(); b != 1 {
			t.Fatalf("got mode byte %d, want 1", b)
		}
		aead, err := cipher.NewGCM(block)
		must(t, err)
		w.mode = "gcm"
		w.plaintext, err = aead.Open(nil, w.nonce, ct, nil)
		must(t, err)
	case 0:
		w.mode = "cbc"
		cipher.NewCBCDecrypter(block, w.nonce).CryptBlocks(ct, ct)
		pad := int(ct[len(ct)-1])
		if !bytes.Equal(ct[len(ct)-pad:], bytes.Repeat([]byte{byte(pad)}, pad)) {
			t.Fatalf("bad PKCS#7 padding % x", ct[len(ct)-pad:])
		}
		w.plaintext = ct[:len(ct)-pad]
	default:
		t.Fatalf("got %d bytes after the ciphertext, want 0 or 1", r.Len())
	}
	return w
}

// forgeToken seals any plaintext with the secret, to build tokens that
// Generate would never make (odd JSON, wrong claims, mismatching header).
func forgeToken(t testing.TB, mode Mode, secret []byte, expire int64, plaintext []byte) string {
	t.Helper()
	block, err := aes.NewCipher(secret)
	if err != nil {
		t.Fatal(err)
	}
	var nonce, ct []byte
	if mode == ModeGCM {
		nonce = []byte("123456789012")
		aead, _ := cipher.NewGCM(block)
		ct = aead.Seal(nil, nonce, plaintext, nil)
	} else {
		nonce = []byte("abcdefghijklmnop")
		pad := 16 - len(plaintext)%16
		ct = append(bytes.Clone(plaintext), bytes.Repeat([]byte{byte(pad)}, pad)...)
		cipher.NewCBCEncrypter(block, nonce).CryptBlocks(ct, ct)
	}
	return encodeRaw(layoutBytes(expire, nonce, ct, mode))
}

func layoutBytes(expire int64, nonce, ct []byte, mode Mode) []byte {
	raw := binary.BigEndian.AppendUint64(nil, uint64(expire))
	raw = binary.BigEndian.AppendUint16(raw, uint16(len(nonce)))
	raw = append(raw, nonce...)
	raw = binary.BigEndian.AppendUint16(raw, uint16(len(ct)))
	raw = append(raw, ct...)
	if mode == ModeGCM {
		raw = append(raw, 1)
	}
	return raw
}

func encodeRaw(raw []byte) string { return "04" + base64.StdEncoding.EncodeToString(raw) }

func decodeRaw(t testing.TB, token string) []byte {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(token[2:])
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func generate(t testing.TB, mode Mode) (string, Claims) {
	t.Helper()
	token, claims, err := Generate(Params{AppID: 12345, UserID: "alice", Secret: testSecret,
		EffectiveSeconds: 3600, Payload: "p", Mode: mode, Now: testNow})
	if err != nil {
		t.Fatalf("generate: %v", err)
	}
	return token, claims
}

func TestParseMode_AcceptsNamesInAnyCase(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want Mode
	}{{"", ModeGCM}, {"gcm", ModeGCM}, {"GCM", ModeGCM}, {"cbc", ModeCBC}, {"Cbc", ModeCBC}} {
		got, err := ParseMode(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseMode(%q): got %v, %v, want %v", tc.in, got, err, tc.want)
		}
	}
	if _, err := ParseMode("ecb"); !errors.Is(err, ErrUnknownMode) {
		t.Errorf("ParseMode(ecb): got %v, want %v", err, ErrUnknownMode)
	}
	for m, want := range map[Mode]string{ModeGCM: "gcm", ModeCBC: "cbc", 7: "Mode(7)"} {
		if m.String() != want {
			t.Errorf("Mode(%d).String(): got %q, want %q", uint8(m), m.String(), want)
		}
	}
}

func TestFingerprint_IsHexSHA256(t *testing.T) {
	t.Parallel()
	const want = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" // SHA-256("abc")
	if got := Fingerprint("abc"); got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestFingerprintSum_IsTheBytesFingerprintSpells(t *testing.T) {
	t.Parallel()
	sum := FingerprintSum("abc")
	if got, want := hex.EncodeToString(sum[:]), Fingerprint("abc"); got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestCleanPasted_RemovesAllWhiteSpace(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"04AAAA":                   "04AAAA",
		"  04AA\nAA\r\n\tBB==  \n": "04AAAABB==",
		"04AA AA\u00a0BB\u2003CC":  "04AAAABBCC",
		" \n\t ":                   "",
	} {
		if got := CleanPasted(in); got != want {
			t.Errorf("CleanPasted(%q): got %q, want %q", in, got, want)
		}
	}
}

func TestErrors_AreDistinct(t *testing.T) {
	t.Parallel()
	all := []error{ErrAppIDZero, ErrUserIDEmpty, ErrUserIDTooLong, ErrUserIDNotUTF8, ErrPayloadNotUTF8,
		ErrPayloadTooLong, ErrSecretLength, ErrEffectiveTime, ErrNotVersion04, ErrBase64, ErrTruncated,
		ErrUnknownMode, ErrAuthentication, ErrClaimsNotJSON, ErrExpireMismatch, ErrExpired,
		ErrNotYetValid, ErrAppIDMismatch, ErrNotPrivilegePayload, ErrAppIDSyntax, ErrLifetimeSyntax, ErrLifetimeRange}
	for i, a := range all {
		for j, b := range all {
			if i != j && (errors.Is(a, b) || a.Error() == b.Error()) {
				t.Errorf("errors %d and %d are not distinct: %v, %v", i, j, a, b)
			}
		}
	}
}

// claimsFromJSON reads the claims with encoding/json, the reference reader.
func claimsFromJSON(t *testing.T, plaintext []byte) Claims {
	t.Helper()
	var c Claims
	dec := json.NewDecoder(bytes.NewReader(plaintext))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("plaintext %q is not claims JSON: %v", plaintext, err)
	}
	return c
}
