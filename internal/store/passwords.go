package store

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"

	"golang.org/x/crypto/argon2"
)

// Password length limits in bytes: long enough for a passphrase, short enough
// that hashing an attacker's input stays cheap.
const (
	MinPasswordLen = 12
	MaxPasswordLen = 256
)

// errBadPasswordHash means a stored hash is not an argon2id PHC string we can
// verify; it is never the user's fault, so it is not a ValidationError.
var errBadPasswordHash = errors.New("store: malformed argon2id password hash")

// argonParams are the argon2id cost parameters written into each PHC string.
type argonParams struct {
	memory  uint32 // KiB
	time    uint32
	threads uint8
	saltLen int
	keyLen  int
}

// defaultPasswordParams follow OWASP's argon2id recommendation (19 MiB, two
// passes, one lane).
var defaultPasswordParams = argonParams{memory: 19456, time: 2, threads: 1, saltLen: 16, keyLen: 32}

// passwordParams is what HashPassword uses; tests swap in cheaper ones.
var passwordParams = defaultPasswordParams

// ValidatePassword applies the password policy and reports a violation as a
// ValidationError on the field "password".
func ValidatePassword(pw string) error {
	v := validator{}
	v.check(len(pw) >= MinPasswordLen, "password", "must be at least %d bytes long", MinPasswordLen)
	v.check(len(pw) <= MaxPasswordLen, "password", "must be at most %d bytes long", MaxPasswordLen)
	return v.err()
}

// HashPassword checks pw against the password policy and returns its argon2id
// hash as a PHC string with a fresh random salt.
func HashPassword(pw string) (string, error) {
	if err := ValidatePassword(pw); err != nil {
		return "", err
	}
	return hashPasswordWith(passwordParams, pw)
}

func hashPasswordWith(p argonParams, pw string) (string, error) {
	salt := make([]byte, p.saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("store: password salt: %w", err)
	}
	key := argon2.IDKey([]byte(pw), salt, p.time, p.memory, p.threads, uint32(p.keyLen))
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.memory, p.time, p.threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// CheckPassword tells whether pw matches hash, comparing in constant time. An
// error means the hash itself is unusable, not that the password is wrong.
func CheckPassword(hash, pw string) (bool, error) {
	p, salt, want, err := parsePasswordHash(hash)
	if err != nil {
		return false, err
	}
	got := argon2.IDKey([]byte(pw), salt, p.time, p.memory, p.threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// parsePasswordHash reads "$argon2id$v=19$m=..,t=..,p=..$salt$hash" and
// bounds its parameters, so that a bad row cannot make verification hang.
func parsePasswordHash(hash string) (argonParams, []byte, []byte, error) {
	var p argonParams
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, nil, nil, errBadPasswordHash
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return p, nil, nil, errBadPasswordHash
	}
	var threads uint32
	n, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.memory, &p.time, &threads)
	if err != nil || n != 3 || p.time < 1 || p.time > 16 || threads < 1 || threads > 16 ||
		p.memory < 8*threads || p.memory > 1<<21 {
		return p, nil, nil, errBadPasswordHash
	}
	p.threads = uint8(threads)
	salt, err := base64.RawStdEncoding.Strict().DecodeString(parts[4])
	if err != nil || len(salt) < 8 {
		return p, nil, nil, errBadPasswordHash
	}
	key, err := base64.RawStdEncoding.Strict().DecodeString(parts[5])
	if err != nil || len(key) < 16 || len(key) > 64 {
		return p, nil, nil, errBadPasswordHash
	}
	p.saltLen, p.keyLen = len(salt), len(key)
	return p, salt, key, nil
}

// dummyHash is verified against when a sign-in names no operator, so that an
// unknown username costs as much time as a wrong password.
var dummyHash = sync.OnceValues(func() (string, error) {
	return hashPasswordWith(passwordParams, "not a password anyone can type\x00")
})
