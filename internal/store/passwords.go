package store

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

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

// PasswordParams are the argon2id cost parameters of new password hashes.
// Each PHC string records its own, so a change leaves old hashes verifiable.
type PasswordParams struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8
	SaltLen int // bytes
	KeyLen  int // bytes
}

// defaultPasswordParams follow OWASP's argon2id recommendation (19 MiB, two
// passes, one lane). Never written: WithPasswordParams sets a store's own.
var defaultPasswordParams = PasswordParams{Memory: 19456, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}

// verifiable tells whether CheckPassword accepts hashes made with p: it
// bounds the parameters so that a bad row cannot make verification hang.
func (p PasswordParams) verifiable() bool {
	return p.Time >= 1 && p.Time <= 16 && p.Threads >= 1 && p.Threads <= 16 &&
		p.Memory >= 8*uint32(p.Threads) && p.Memory <= 1<<21 && p.SaltLen >= 8 && p.KeyLen >= 16 && p.KeyLen <= 64
}

// ValidatePassword applies the password policy and reports a violation as a
// ValidationError on the field "password".
func ValidatePassword(pw string) error {
	v := validator{}
	v.check(len(pw) >= MinPasswordLen, "password", "must be at least %d bytes long", MinPasswordLen)
	v.check(len(pw) <= MaxPasswordLen, "password", "must be at most %d bytes long", MaxPasswordLen)
	return v.err()
}

// HashPassword checks pw against the password policy and returns its argon2id
// hash, with the default parameters, as a PHC string with a fresh random salt.
func HashPassword(pw string) (string, error) {
	return hashPassword(defaultPasswordParams, pw)
}

// hashPassword is what HashPassword does, with the store's parameters.
func (s *Store) hashPassword(pw string) (string, error) {
	return hashPassword(s.passwordParams, pw)
}

func hashPassword(p PasswordParams, pw string) (string, error) {
	if err := ValidatePassword(pw); err != nil {
		return "", err
	}
	return hashPasswordWith(p, pw)
}

func hashPasswordWith(p PasswordParams, pw string) (string, error) {
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("store: password salt: %w", err)
	}
	key := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, uint32(p.KeyLen))
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// CheckPassword tells whether pw matches hash, comparing in constant time. An
// error means the hash itself is unusable, not that the password is wrong.
func CheckPassword(hash, pw string) (bool, error) {
	p, salt, want, err := parsePasswordHash(hash)
	if err != nil {
		return false, err
	}
	got := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// parsePasswordHash reads "$argon2id$v=19$m=..,t=..,p=..$salt$hash" and
// bounds its parameters, so that a bad row cannot make verification hang.
func parsePasswordHash(hash string) (PasswordParams, []byte, []byte, error) {
	var p PasswordParams
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, nil, nil, errBadPasswordHash
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return p, nil, nil, errBadPasswordHash
	}
	var threads uint32
	n, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &threads)
	if err != nil || n != 3 || threads > 16 {
		return p, nil, nil, errBadPasswordHash
	}
	p.Threads = uint8(threads)
	salt, err := base64.RawStdEncoding.Strict().DecodeString(parts[4])
	if err != nil {
		return p, nil, nil, errBadPasswordHash
	}
	key, err := base64.RawStdEncoding.Strict().DecodeString(parts[5])
	if err != nil {
		return p, nil, nil, errBadPasswordHash
	}
	p.SaltLen, p.KeyLen = len(salt), len(key)
	if !p.verifiable() {
		return p, nil, nil, errBadPasswordHash
	}
	return p, salt, key, nil
}
