package token04

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// DecodeOptions tunes the checks Decode makes after the token has verified.
type DecodeOptions struct {
	Now         time.Time // zero => time.Now()
	ExpectAppID uint32    // 0 => no check
}

// Decoded is what a verified token holds, and how it was sealed.
type Decoded struct {
	Claims Claims
	Mode   Mode
}

// layout is the binary token split along its length fields.
type layout struct {
	expire     int64
	nonce      []byte
	ciphertext []byte
	mode       Mode
}

// Decode verifies token with secret. For ErrExpired, ErrNotYetValid and ErrAppIDMismatch it
// returns the decoded claims together with the error so that callers can still show them.
//
// Checks run in the order of the format, so the first thing wrong is the one
// reported. Once the claims are authentic, an app id mismatch wins over
// timing (the token is for another project whatever its age), then not yet
// valid (ctime > now + ClockSkew), then expired (now >= expire).
func Decode(token string, secret []byte, opt DecodeOptions) (Decoded, error) {
	if len(secret) != SecretLength {
		return Decoded{}, fmt.Errorf("%w, got %d", ErrSecretLength, len(secret))
	}
	if len(token) < 2 || token[:2] != "04" {
		return Decoded{}, ErrNotVersion04
	}
	// Only the canonical spelling is accepted: the lenient decoder would skip
	// \r and \n and ignore the unused low bits of the last character, so one
	// token could be presented under many strings — and many fingerprints,
	// which is how the console recognises (and revokes) a token.
	if strings.ContainsAny(token, "\r\n") {
		return Decoded{}, fmt.Errorf("%w: line breaks inside the token", ErrBase64)
	}
	raw, err := base64.StdEncoding.Strict().DecodeString(token[2:])
	if err != nil {
		return Decoded{}, fmt.Errorf("%w: %v", ErrBase64, err)
	}
	l, err := parseLayout(raw)
	if err != nil {
		return Decoded{}, err
	}
	claims, err := l.open(secret)
	if err != nil {
		return Decoded{}, err
	}
	if claims.Expire != l.expire {
		return Decoded{}, fmt.Errorf("%w: header %d, claims %d", ErrExpireMismatch, l.expire, claims.Expire)
	}

	d := Decoded{Claims: claims, Mode: l.mode}
	now := opt.Now
	if now.IsZero() {
		now = time.Now()
	}
	unix := now.Unix()
	switch {
	case opt.ExpectAppID != 0 && claims.AppID != opt.ExpectAppID:
		return d, fmt.Errorf("%w: token has %d, want %d", ErrAppIDMismatch, claims.AppID, opt.ExpectAppID)
	// Written as an unsigned difference so that extreme ctime or now values cannot overflow.
	case claims.CTime > unix && uint64(claims.CTime)-uint64(unix) > ClockSkew:
		return d, fmt.Errorf("%w: issued at %s", ErrNotYetValid, formatUnix(claims.CTime))
	case unix >= claims.Expire:
		return d, fmt.Errorf("%w at %s", ErrExpired, formatUnix(claims.Expire))
	}
	return d, nil
}

func formatUnix(sec int64) string {
	return time.Unix(sec, 0).UTC().Format(time.RFC3339)
}

// parseLayout splits raw along its length fields. What follows the ciphertext
// tells the mode: nothing for CBC, the single byte 0x01 for GCM. The last byte
// alone cannot tell, since a CBC ciphertext may end in 0x01 too.
func parseLayout(raw []byte) (layout, error) {
	if len(raw) < headerLength {
		return layout{}, fmt.Errorf("%w: %d bytes, header needs %d", ErrTruncated, len(raw), headerLength)
	}
	l := layout{expire: int64(binary.BigEndian.Uint64(raw))}
	nonceLength := int(binary.BigEndian.Uint16(raw[8:]))
	rest := raw[headerLength:]
	if len(rest) < nonceLength+2 {
		return layout{}, fmt.Errorf("%w: nonce of %d bytes cut short", ErrTruncated, nonceLength)
	}
	l.nonce, rest = rest[:nonceLength], rest[nonceLength:]
	ctLength := int(binary.BigEndian.Uint16(rest))
	rest = rest[2:]
	if len(rest) < ctLength {
		return layout{}, fmt.Errorf("%w: ciphertext of %d bytes, %d present", ErrTruncated, ctLength, len(rest))
	}
	l.ciphertext, rest = rest[:ctLength], rest[ctLength:]

	switch {
	case len(rest) > 1:
		return layout{}, fmt.Errorf("%w: %d bytes after the ciphertext", ErrTruncated, len(rest))
	case len(rest) == 1 && rest[0] != gcmModeByte:
		return layout{}, fmt.Errorf("%w: mode byte 0x%02x", ErrUnknownMode, rest[0])
	case len(rest) == 1 && nonceLength != gcmNonceLength:
		return layout{}, fmt.Errorf("%w: GCM mode byte with a %d-byte nonce", ErrUnknownMode, nonceLength)
	case len(rest) == 1:
		l.mode = ModeGCM
		if ctLength < gcmTagLength {
			return layout{}, fmt.Errorf("%w: GCM ciphertext of %d bytes is shorter than its tag", ErrTruncated, ctLength)
		}
	case nonceLength == gcmNonceLength:
		// A GCM nonce without the mode byte is what a GCM token cut by one byte looks like.
		return layout{}, fmt.Errorf("%w: GCM nonce but no mode byte", ErrTruncated)
	case nonceLength != cbcIVLength:
		return layout{}, fmt.Errorf("%w: %d-byte nonce fits neither GCM nor CBC", ErrUnknownMode, nonceLength)
	default:
		l.mode = ModeCBC
		if ctLength == 0 || ctLength%aes.BlockSize != 0 {
			return layout{}, fmt.Errorf("%w: CBC ciphertext of %d bytes is not whole blocks", ErrTruncated, ctLength)
		}
	}
	return l, nil
}

// open decrypts the ciphertext in place and parses the claims.
//
// GCM authenticates, so a plaintext that is not claims JSON was made by
// someone holding the key: ErrClaimsNotJSON. CBC does not: a wrong key yields
// valid-looking padding about once in 256 tries, and its garbage cannot be
// told from a wrong key, so for CBC every failure is ErrAuthentication.
func (l layout) open(secret []byte) (Claims, error) {
	block, err := aes.NewCipher(secret)
	if err != nil {
		return Claims{}, fmt.Errorf("token04: %w", err)
	}
	if l.mode == ModeGCM {
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return Claims{}, fmt.Errorf("token04: %w", err)
		}
		pt, err := aead.Open(l.ciphertext[:0], l.nonce, l.ciphertext, nil)
		if err != nil {
			return Claims{}, ErrAuthentication
		}
		claims, err := parseClaims(pt)
		if err != nil {
			return Claims{}, fmt.Errorf("%w: %v", ErrClaimsNotJSON, err)
		}
		return claims, nil
	}

	pt := l.ciphertext
	cipher.NewCBCDecrypter(block, l.nonce).CryptBlocks(pt, pt)
	padding := int(pt[len(pt)-1])
	if padding == 0 || padding > aes.BlockSize {
		return Claims{}, ErrAuthentication
	}
	for _, b := range pt[len(pt)-padding:] {
		if int(b) != padding {
			return Claims{}, ErrAuthentication
		}
	}
	claims, err := parseClaims(pt[:len(pt)-padding])
	if err != nil {
		return Claims{}, fmt.Errorf("%w: %v", ErrAuthentication, err)
	}
	return claims, nil
}

// parseClaims reads the claims JSON in any field order and escaping. Keys
// match exactly (encoding/json alone would match "APP_ID" too), all six are
// required, numbers must be integers within their type, and the text must be
// UTF-8 (encoding/json would silently turn bad bytes into U+FFFD and change the user id).
func parseClaims(pt []byte) (Claims, error) {
	if !utf8.Valid(pt) {
		return Claims{}, errors.New("claims are not UTF-8")
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(pt, &fields); err != nil {
		return Claims{}, err
	}
	r := fieldReader{fields: fields}
	c := Claims{
		AppID:   uint32(r.integer("app_id", 0, math.MaxUint32)),
		UserID:  r.string("user_id"),
		CTime:   r.integer("ctime", math.MinInt64, math.MaxInt64),
		Expire:  r.integer("expire", math.MinInt64, math.MaxInt64),
		Nonce:   int32(r.integer("nonce", math.MinInt32, math.MaxInt32)),
		Payload: r.string("payload"),
	}
	return c, r.err
}

// fieldReader reads typed fields from a JSON object and keeps the first error.
type fieldReader struct {
	fields map[string]json.RawMessage
	err    error
}

func (r *fieldReader) fail(format string, a ...any) {
	if r.err == nil {
		r.err = fmt.Errorf(format, a...)
	}
}

// integer reads a JSON integer in [lo, hi]: a number with no fraction or
// exponent (1e3 is valid JSON, but no generator writes it for these fields).
func (r *fieldReader) integer(key string, lo, hi int64) int64 {
	raw, ok := r.fields[key]
	if !ok {
		r.fail("missing %q", key)
		return 0
	}
	if raw[0] != '-' && (raw[0] < '0' || raw[0] > '9') || bytes.ContainsAny(raw, ".eE") {
		r.fail("%q is not an integer: %s", key, raw)
		return 0
	}
	v, err := strconv.ParseInt(string(raw), 10, 64)
	if err != nil || v < lo || v > hi {
		r.fail("%q out of range: %s", key, raw)
		return 0
	}
	return v
}

// string reads a JSON string; null, which encoding/json would turn into "", is refused.
func (r *fieldReader) string(key string) string {
	raw, ok := r.fields[key]
	if !ok {
		r.fail("missing %q", key)
		return ""
	}
	var s string
	if raw[0] != '"' {
		r.fail("%q is not a string: %s", key, raw)
	} else if err := json.Unmarshal(raw, &s); err != nil {
		r.fail("%q: %w", key, err)
	}
	return s
}
