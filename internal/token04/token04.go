// Package token04 makes and verifies ZEGO Token04 credentials:
//
//	"04" + base64std( expire:int64 BE | len:uint16 BE | nonce-or-IV | len:uint16 BE | ciphertext | [mode:uint8] )
//
// The ciphertext is the claims JSON sealed with the project's 32-byte
// ServerSecret, either with AES-256-GCM (trailing mode byte 0x01, what ZEGO
// recommends and what Generate uses by default) or AES-256-CBC (the legacy
// layout without a mode byte). The package uses the standard library only and
// keeps no state: callers pass the secret every time.
package token04

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// Mode is the cipher a token is sealed with. Its zero value is ModeGCM, so
// that a caller who says nothing gets the mode ZEGO recommends.
type Mode uint8

const (
	// ModeGCM is AES-256-GCM, recommended by ZEGO: the token ends with the byte 0x01.
	ModeGCM Mode = 0
	// ModeCBC is AES-256-CBC with PKCS#7 padding: the legacy layout, with no trailing mode byte.
	ModeCBC Mode = 1
)

// gcmModeByte is the trailing byte that marks a GCM token on the wire.
const gcmModeByte = 0x01

// String returns "cbc" or "gcm", the names ParseMode accepts.
func (m Mode) String() string {
	switch m {
	case ModeCBC:
		return "cbc"
	case ModeGCM:
		return "gcm"
	}
	return fmt.Sprintf("Mode(%d)", uint8(m))
}

// ParseMode reads a mode name, case-insensitively; the empty string means
// ModeGCM because that is the mode new tokens should use.
func ParseMode(s string) (Mode, error) {
	switch strings.ToLower(s) {
	case "", "gcm":
		return ModeGCM, nil
	case "cbc":
		return ModeCBC, nil
	}
	return 0, fmt.Errorf("%w: %q (want gcm or cbc)", ErrUnknownMode, s)
}

// Claims is what a token carries inside its ciphertext, with the JSON names of the wire format.
type Claims struct {
	AppID   uint32 `json:"app_id"`
	UserID  string `json:"user_id"`
	CTime   int64  `json:"ctime"`
	Expire  int64  `json:"expire"`
	Nonce   int32  `json:"nonce"`
	Payload string `json:"payload"`
}

// SecretLength is the length in bytes of a ZEGO ServerSecret (32 ASCII characters = an AES-256 key).
const SecretLength = 32

// MaxUserIDLength is the limit in bytes the newest official generator puts on user ids.
const MaxUserIDLength = 64

// ClockSkew is how far in the future a token's ctime may lie before Decode
// calls it not yet valid: issuing servers' clocks drift, and rejecting a token
// made a few seconds "ahead" would only confuse people.
const ClockSkew = 300 // seconds

// Errors of Generate, one per rule of the official generators plus the UTF-8
// checks that keep the claims JSON well-formed.
var (
	// ErrAppIDZero means Params.AppID is 0, which no ZEGO project has.
	ErrAppIDZero = errors.New("token04: app id must not be 0")
	// ErrUserIDEmpty means Params.UserID is empty.
	ErrUserIDEmpty = errors.New("token04: user id must not be empty")
	// ErrUserIDTooLong means Params.UserID is longer than MaxUserIDLength bytes.
	ErrUserIDTooLong = errors.New("token04: user id longer than 64 bytes")
	// ErrUserIDNotUTF8 means Params.UserID is not valid UTF-8, so JSON could not carry it unchanged.
	ErrUserIDNotUTF8 = errors.New("token04: user id is not valid UTF-8")
	// ErrPayloadNotUTF8 means Params.Payload is not valid UTF-8; it is refused rather than
	// silently altered (encoding/json would turn bad bytes into U+FFFD).
	ErrPayloadNotUTF8 = errors.New("token04: payload is not valid UTF-8")
	// ErrPayloadTooLong means the sealed claims would not fit the 16-bit length field of the format.
	ErrPayloadTooLong = errors.New("token04: payload too long for a token")
	// ErrSecretLength means the ServerSecret is not exactly SecretLength bytes (Decode checks it too).
	ErrSecretLength = errors.New("token04: server secret must be exactly 32 bytes")
	// ErrEffectiveTime means Params.EffectiveSeconds is not positive, or so large that expire overflows.
	ErrEffectiveTime = errors.New("token04: effective time must be a positive number of seconds")
)

// Errors of Decode. Each names one reason a token is refused so that the UI,
// the API and the CLI can tell people what is wrong.
var (
	// ErrNotVersion04 means the token does not start with "04".
	ErrNotVersion04 = errors.New("token04: not a version 04 token")
	// ErrBase64 means the part after "04" is not standard, padded base64.
	ErrBase64 = errors.New("token04: token is not valid base64")
	// ErrTruncated means the binary layout is cut short or its length fields disagree with its size.
	ErrTruncated = errors.New("token04: token is truncated or its length fields are inconsistent")
	// ErrUnknownMode means a trailing mode byte other than 0x01, or a nonce length that fits no mode.
	ErrUnknownMode = errors.New("token04: unknown encryption mode")
	// ErrAuthentication means the secret is wrong or the ciphertext was altered.
	ErrAuthentication = errors.New("token04: token does not verify with this secret")
	// ErrClaimsNotJSON means a GCM token opened with the right key but holds no valid claims
	// JSON: only someone holding the secret can make one (ZEGO error 1002075).
	ErrClaimsNotJSON = errors.New("token04: token payload is not valid claims JSON")
	// ErrExpireMismatch means the clear expire in the header differs from the sealed one.
	ErrExpireMismatch = errors.New("token04: header expire differs from claims expire")
	// ErrExpired means now >= expire; Decode returns the claims with it.
	ErrExpired = errors.New("token04: token expired")
	// ErrNotYetValid means ctime lies more than ClockSkew seconds after now; Decode returns the claims with it.
	ErrNotYetValid = errors.New("token04: token not yet valid")
	// ErrAppIDMismatch means the token was made for another app id; Decode returns the claims with it.
	ErrAppIDMismatch = errors.New("token04: token is for another app id")
)

// FingerprintSum is the SHA-256 of the token string: what the console stores
// so that it can recognise a token without keeping it.
func FingerprintSum(token string) [sha256.Size]byte {
	return sha256.Sum256([]byte(token))
}

// Fingerprint is FingerprintSum in lowercase hex, as people see it.
func Fingerprint(token string) string {
	sum := FingerprintSum(token)
	return hex.EncodeToString(sum[:])
}

// CleanPasted removes all white space from a pasted token: base64 has none,
// while copying from a terminal, a log or an e-mail adds line breaks and
// indentation.
func CleanPasted(s string) string {
	return strings.Join(strings.Fields(s), "")
}
