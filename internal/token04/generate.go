package token04

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"time"
	"unicode/utf8"
)

// Params is what Generate needs to make a token.
type Params struct {
	AppID            uint32
	UserID           string
	Secret           []byte // exactly 32 bytes (the ASCII ServerSecret)
	EffectiveSeconds int64  // > 0
	Payload          string
	Mode             Mode
	Now              time.Time // zero => time.Now()
}

const (
	gcmNonceLength = 12
	cbcIVLength    = aes.BlockSize
	gcmTagLength   = 16
	headerLength   = 8 + 2 // expire, nonce length; the nonce and the ciphertext length follow
)

// ValidateUserID applies ZEGO's rule for user ids: present, at most
// MaxUserIDLength bytes, valid UTF-8 (so that the claims JSON carries it
// unchanged). The error is ErrUserIDEmpty, ErrUserIDTooLong or ErrUserIDNotUTF8.
func ValidateUserID(id string) error {
	switch {
	case id == "":
		return ErrUserIDEmpty
	case len(id) > MaxUserIDLength:
		return fmt.Errorf("%w: %d bytes", ErrUserIDTooLong, len(id))
	case !utf8.ValidString(id):
		return ErrUserIDNotUTF8
	}
	return nil
}

func (p *Params) validate() error {
	if p.AppID == 0 {
		return ErrAppIDZero
	}
	if err := ValidateUserID(p.UserID); err != nil {
		return err
	}
	switch {
	case len(p.Payload) > math.MaxUint16: // surely too long: refuse before scanning or allocating it
		return fmt.Errorf("%w: %d bytes", ErrPayloadTooLong, len(p.Payload))
	case !utf8.ValidString(p.Payload):
		return ErrPayloadNotUTF8
	case len(p.Secret) != SecretLength:
		return fmt.Errorf("%w, got %d", ErrSecretLength, len(p.Secret))
	case p.EffectiveSeconds <= 0:
		return fmt.Errorf("%w, got %d", ErrEffectiveTime, p.EffectiveSeconds)
	case p.Mode != ModeGCM && p.Mode != ModeCBC:
		return fmt.Errorf("%w: %v", ErrUnknownMode, p.Mode)
	}
	return nil
}

// Generate validates p, makes the token and returns it with the claims inside.
//
// It is on the hot path of every issue request, so it builds the whole binary
// token in one buffer: one crypto/rand read fills the nonce (or IV) in place
// plus four bytes for the claims nonce, the claims JSON is written by hand
// right after the header, sealed in place, and base64-encoded once. CBC tokens
// get a 16-byte random binary IV, as the official Java generator does: ZEGO
// accepts any 16 bytes, and binary is uniform where alphanumeric IVs would
// need rejection sampling and carry less entropy.
func Generate(p Params) (string, Claims, error) {
	if err := p.validate(); err != nil {
		return "", Claims{}, err
	}
	now := p.Now
	if now.IsZero() {
		now = time.Now()
	}
	ctime := now.Unix()
	if ctime > math.MaxInt64-p.EffectiveSeconds {
		return "", Claims{}, fmt.Errorf("%w: expire overflows", ErrEffectiveTime)
	}
	block, err := aes.NewCipher(p.Secret)
	if err != nil { // cannot happen with 32 bytes; kept so a change in aes is not silent
		return "", Claims{}, fmt.Errorf("token04: %w", err)
	}
	nonceLength := gcmNonceLength
	if p.Mode == ModeCBC {
		nonceLength = cbcIVLength
	}
	ptStart := headerLength + nonceLength + 2
	// 16 covers both the GCM tag and the largest CBC padding, 1 the GCM mode byte.
	buf := make([]byte, ptStart+claimsJSONMaxLength(p.UserID, p.Payload)+16+1)

	random := buf[headerLength : headerLength+nonceLength+4]
	if _, err := rand.Read(random); err != nil {
		return "", Claims{}, fmt.Errorf("token04: reading randomness: %w", err)
	}
	nonce := random[:nonceLength]
	// The four bytes after the nonce become the claims nonce; the ciphertext
	// length and the JSON overwrite them next, so read them first.
	claims := Claims{
		AppID:   p.AppID,
		UserID:  p.UserID,
		CTime:   ctime,
		Expire:  ctime + p.EffectiveSeconds,
		Nonce:   int32(binary.BigEndian.Uint32(random[nonceLength:])),
		Payload: p.Payload,
	}
	binary.BigEndian.PutUint64(buf, uint64(claims.Expire))
	binary.BigEndian.PutUint16(buf[8:], uint16(nonceLength))

	pt := appendClaimsJSON(buf[ptStart:ptStart], &claims)
	var ct []byte
	if p.Mode == ModeGCM {
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return "", Claims{}, fmt.Errorf("token04: %w", err)
		}
		ct = aead.Seal(pt[:0], nonce, pt, nil)
	} else {
		padding := aes.BlockSize - len(pt)%aes.BlockSize
		for range padding {
			pt = append(pt, byte(padding))
		}
		cipher.NewCBCEncrypter(block, nonce).CryptBlocks(pt, pt)
		ct = pt
	}
	if len(ct) > math.MaxUint16 {
		return "", Claims{}, fmt.Errorf("%w: %d bytes of ciphertext, at most %d", ErrPayloadTooLong, len(ct), math.MaxUint16)
	}
	binary.BigEndian.PutUint16(buf[ptStart-2:], uint16(len(ct)))
	// ct already sits at buf[ptStart:], so this append is a short memmove onto
	// itself; written so it stays correct should a cipher ever return fresh memory.
	raw := append(buf[:ptStart], ct...)
	if p.Mode == ModeGCM {
		raw = append(raw, gcmModeByte)
	}

	out := make([]byte, 2+base64.StdEncoding.EncodedLen(len(raw)))
	out[0], out[1] = '0', '4'
	base64.StdEncoding.Encode(out[2:], raw)
	return string(out), claims, nil
}

// claimsJSONMaxLength bounds the length of appendClaimsJSON's output: exact
// for the strings, the widest values for the numbers.
func claimsJSONMaxLength(userID, payload string) int {
	const fixed = len(`{"app_id":,"user_id":,"ctime":,"expire":,"nonce":,"payload":}`)
	const numbers = 10 + 20 + 20 + 11 // uint32, int64, int64, int32
	return fixed + numbers + jsonStringLength(userID) + jsonStringLength(payload)
}

// appendClaimsJSON writes the claims in the field order and escaping of
// encoding/json (which the official Go generator uses), so the tests can hold
// it against json.Marshal byte for byte.
func appendClaimsJSON(b []byte, c *Claims) []byte {
	b = append(b, `{"app_id":`...)
	b = strconv.AppendUint(b, uint64(c.AppID), 10)
	b = append(b, `,"user_id":`...)
	b = appendJSONString(b, c.UserID)
	b = append(b, `,"ctime":`...)
	b = strconv.AppendInt(b, c.CTime, 10)
	b = append(b, `,"expire":`...)
	b = strconv.AppendInt(b, c.Expire, 10)
	b = append(b, `,"nonce":`...)
	b = strconv.AppendInt(b, int64(c.Nonce), 10)
	b = append(b, `,"payload":`...)
	b = appendJSONString(b, c.Payload)
	return append(b, '}')
}

// jsonEscapes[c] says how appendJSONString writes the byte c: 0 as it is,
// 'u' as \u00XX, 0xE2 "look further" (it may start U+2028 or U+2029), any
// other value as a backslash and that character. A table because this loop is
// a quarter of Generate's time, and one lookup beats six comparisons.
var jsonEscapes = func() (t [256]byte) {
	for c := range 0x20 {
		t[c] = 'u'
	}
	t['\b'], t['\f'], t['\n'], t['\r'], t['\t'] = 'b', 'f', 'n', 'r', 't'
	t['"'], t['\\'] = '"', '\\'
	// Like encoding/json, escape <, > and & so that a payload pasted into
	// HTML can never close a tag.
	t['<'], t['>'], t['&'] = 'u', 'u', 'u'
	t[0xE2] = 0xE2
	return t
}()

// isLineSeparator reports whether s[i:] starts with U+2028 or U+2029 (E2 80 A8/A9),
// which are valid JSON but end a JavaScript string literal, so encoding/json escapes them.
func isLineSeparator(s string, i int) bool {
	return i+2 < len(s) && s[i] == 0xE2 && s[i+1] == 0x80 && s[i+2]&^1 == 0xA8
}

// jsonStringLength is the length of appendJSONString's output for s, quotes included.
func jsonStringLength(s string) int {
	n := len(s) + 2
	for i := 0; i < len(s); i++ {
		switch jsonEscapes[s[i]] {
		case 0:
		case 0xE2:
			if isLineSeparator(s, i) {
				n += 3 // three bytes become \u202X
				i += 2
			}
		case 'u':
			n += 5 // one byte becomes \u00XX
		default:
			n++ // two-character escape
		}
	}
	return n
}

// appendJSONString appends s as a JSON string escaped exactly as encoding/json
// does. s must be valid UTF-8: Generate checks that first, and refuses rather
// than letting bad bytes through or silently replacing them.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch e := jsonEscapes[c]; e {
		case 0:
			continue
		case 0xE2:
			if !isLineSeparator(s, i) {
				continue
			}
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', '8'+s[i+2]-0xA8)
			i += 2
		case 'u':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, s[start:i]...)
			b = append(b, '\\', e)
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
