package store

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// ErrNoMasterKey means a ciphertext names a master key the keyring lacks.
var ErrNoMasterKey = errors.New("master key not configured")

// Keyring seals ServerSecrets under the current master key and opens them
// under any key it knows, so that the master key can be rotated with
// `console secrets rekey` while old ciphertexts stay readable.
type Keyring struct {
	current string
	aeads   map[string]cipher.AEAD
	raw     map[string][]byte
	order   []string
}

// NewKeyring takes the current master key first, then older ones; each is
// exactly 32 bytes.
func NewKeyring(current []byte, older ...[]byte) (*Keyring, error) {
	k := &Keyring{aeads: map[string]cipher.AEAD{}, raw: map[string][]byte{}}
	for i, key := range append([][]byte{current}, older...) {
		if len(key) != 32 {
			return nil, fmt.Errorf("store: master key %d is %d bytes, want 32", i+1, len(key))
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		id := KeyID(key)
		if i == 0 {
			k.current = id
		}
		if _, dup := k.aeads[id]; !dup {
			k.order = append(k.order, id)
		}
		k.aeads[id] = aead
		k.raw[id] = key
	}
	return k, nil
}

// ParseMasterKeys decodes a base64 key, and optional older keys separated by
// commas, into a keyring.
func ParseMasterKeys(current string, older string) (*Keyring, error) {
	cur, err := decodeKey(current)
	if err != nil {
		return nil, fmt.Errorf("CONSOLE_MASTER_KEY: %w", err)
	}
	var olds [][]byte
	for _, s := range KeyList(older) {
		b, err := decodeKey(s)
		if err != nil {
			return nil, fmt.Errorf("CONSOLE_MASTER_KEY_OLD: %w", err)
		}
		olds = append(olds, b)
	}
	return NewKeyring(cur, olds...)
}

// KeyList splits a comma-separated list of keys (CONSOLE_MASTER_KEY_OLD,
// CONSOLE_AUDIT_KEY_OLD), trimmed, empty entries left out.
func KeyList(s string) []string {
	var out []string
	for _, k := range strings.Split(s, ",") {
		if k = strings.TrimSpace(k); k != "" {
			out = append(out, k)
		}
	}
	return out
}

func decodeKey(s string) ([]byte, error) {
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil {
		return nil, fmt.Errorf("not base64: %w", err)
	}
	if len(b) != 32 {
		return nil, fmt.Errorf("decodes to %d bytes, want 32 (make one with: head -c 32 /dev/urandom | base64)", len(b))
	}
	return b, nil
}

// KeyID names a master key without revealing it.
func KeyID(key []byte) string {
	sum := sha256.Sum256(append([]byte("zego-console master key id\x00"), key...))
	return hex.EncodeToString(sum[:6])
}

// CurrentID is the id of the key new ciphertexts are sealed under.
func (k *Keyring) CurrentID() string { return k.current }

// secretAD binds a ciphertext to its row.
func secretAD(projectID int64, version int) []byte {
	return fmt.Appendf(nil, "project:%d:v%d", projectID, version)
}

// Seal encrypts a ServerSecret for the given row under the current key.
func (k *Keyring) Seal(projectID int64, version int, secret []byte) (keyID string, ciphertext []byte, err error) {
	keyID, ciphertext, err = k.sealWith(secretAD(projectID, version), secret)
	if err != nil {
		return "", nil, fmt.Errorf("store: seal secret: %w", err)
	}
	return keyID, ciphertext, nil
}

// Open decrypts a ServerSecret sealed for the given row.
func (k *Keyring) Open(keyID string, projectID int64, version int, ciphertext []byte) ([]byte, error) {
	plain, err := k.openWith(keyID, secretAD(projectID, version), ciphertext)
	if err != nil {
		return nil, fmt.Errorf("store: open secret of project %d v%d: %w", projectID, version, err)
	}
	return plain, nil
}

// sealWith encrypts plain under the current key, bound to ad: the nonce,
// then the ciphertext and its tag.
func (k *Keyring) sealWith(ad, plain []byte) (keyID string, ciphertext []byte, err error) {
	aead := k.aeads[k.current]
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", nil, err
	}
	return k.current, aead.Seal(nonce, nonce, plain, ad), nil
}

// openWith decrypts what sealWith made under keyID for ad.
func (k *Keyring) openWith(keyID string, ad, ciphertext []byte) ([]byte, error) {
	aead, ok := k.aeads[keyID]
	if !ok {
		return nil, fmt.Errorf("%w (key id %s)", ErrNoMasterKey, keyID)
	}
	if len(ciphertext) < aead.NonceSize() {
		return nil, errors.New("ciphertext too short")
	}
	ns := aead.NonceSize()
	plain, err := aead.Open(nil, ciphertext[:ns], ciphertext[ns:], ad)
	if err != nil {
		return nil, errors.New("authentication failed")
	}
	return plain, nil
}

// DerivedKeys returns a 32-byte key for purpose from each master key, current
// first: the audit checkpoint MAC key when none is configured of its own.
func (k *Keyring) DerivedKeys(purpose string) [][]byte {
	out := make([][]byte, 0, len(k.order))
	for _, id := range k.order {
		m := hmac.New(sha256.New, k.raw[id])
		m.Write([]byte("zego-console derived key\x00" + purpose))
		out = append(out, m.Sum(nil))
	}
	return out
}

// sealBound encrypts plain under the current key, bound to ad (what the
// ciphertext belongs to), for secrets other than ServerSecrets.
func (k *Keyring) sealBound(ad, plain []byte) (keyID string, ciphertext []byte, err error) {
	aead := k.aeads[k.current]
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", nil, fmt.Errorf("store: seal: %w", err)
	}
	return k.current, aead.Seal(nonce, nonce, plain, ad), nil
}

// openBound decrypts what sealBound sealed for ad.
func (k *Keyring) openBound(keyID string, ad, ciphertext []byte) ([]byte, error) {
	aead, ok := k.aeads[keyID]
	if !ok {
		return nil, fmt.Errorf("store: open %s: %w (key id %s)", ad, ErrNoMasterKey, keyID)
	}
	ns := aead.NonceSize()
	if len(ciphertext) < ns {
		return nil, fmt.Errorf("store: open %s: ciphertext too short", ad)
	}
	plain, err := aead.Open(nil, ciphertext[:ns], ciphertext[ns:], ad)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: authentication failed", ad)
	}
	return plain, nil
}
