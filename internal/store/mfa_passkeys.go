package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
)

// Errors of passkeys. ErrBadPasskey is any assertion that does not verify
// (or a passkey that is not the person's), so that a caller learns nothing
// more; ErrPasskeyCloned is one whose signature counter went backwards.
var (
	ErrBadPasskey     = errors.New("store: the passkey did not verify")
	ErrPasskeyCloned  = errors.New("store: the passkey's signature counter went backwards: it may have been copied")
	ErrPasskeyUnknown = errors.New("store: no such passkey")
	// ErrPasskeyRegistered means the credential is registered already (to
	// this person or another): browsers exclude it, a forged answer may not.
	ErrPasskeyRegistered = errors.New("store: this passkey is registered already")
)

// Reasons of failed passkey checks, in their audit events.
const (
	reasonBadPasskey   = "bad_passkey"
	reasonCloneWarning = "clone_warning"
)

// CheckPasskeySignIn is a sign-in with a passkey alone, which checked the
// person's PIN or biometric: both factors in one.
const CheckPasskeySignIn = "passkey_sign_in"

// Passkey is a passkey or security key of a person, as their account page
// shows it: never its key material.
type Passkey struct {
	ID             int64      `db:"id"`
	Name           string     `db:"name"`
	BackupEligible bool       `db:"backup_eligible"` // a synced passkey (it may live on several devices)
	UserVerified   bool       `db:"user_verified"`   // the authenticator checked a PIN or biometric at registration
	CloneWarning   bool       `db:"clone_warning"`   // its signature counter once went backwards
	SignCount      int64      `db:"sign_count"`
	CreatedAt      time.Time  `db:"created_at"`
	LastUsedAt     *time.Time `db:"last_used_at"`
}

// PasskeyCredential is a WebAuthn credential as the store keeps it: its id,
// the record the WebAuthn library made of it (JSON: public key, attestation,
// transports), and what the store shows and checks of it.
type PasskeyCredential struct {
	ID             []byte
	Record         []byte // JSON
	AAGUID         []byte // 0 or 16 bytes
	SignCount      uint32
	UserPresent    bool
	UserVerified   bool
	BackupEligible bool
	BackupState    bool
	CloneWarning   bool
}

// listPasskeys lists an operator's passkeys, oldest first.
func listPasskeys(ctx context.Context, db dbtx, operatorID int64) ([]Passkey, error) {
	rows, _ := db.Query(ctx, `SELECT id, name, backup_eligible, user_verified, clone_warning, sign_count, created_at, last_used_at
		FROM operator_passkeys WHERE operator_id = $1 ORDER BY id`, operatorID)
	out, err := pgx.CollectRows(rows, pgx.RowToStructByName[Passkey])
	if err != nil {
		return nil, fmt.Errorf("store: list passkeys: %w", err)
	}
	return out, nil
}

// PasskeyCredentials returns the credentials of an operator's passkeys, to
// check an assertion against or to exclude at registration.
func (s *Store) PasskeyCredentials(ctx context.Context, operatorID int64) ([]PasskeyCredential, error) {
	return passkeyCredentials(ctx, s.pool, operatorID)
}

func passkeyCredentials(ctx context.Context, db dbtx, operatorID int64) ([]PasskeyCredential, error) {
	rows, err := db.Query(ctx, `SELECT credential_id, record::text, aaguid, sign_count, user_present, user_verified,
			backup_eligible, backup_state, clone_warning
		FROM operator_passkeys WHERE operator_id = $1 ORDER BY id`, operatorID)
	if err != nil {
		return nil, fmt.Errorf("store: passkey credentials: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (PasskeyCredential, error) {
		var c PasskeyCredential
		var record string
		var count int64
		err := r.Scan(&c.ID, &record, &c.AAGUID, &count, &c.UserPresent, &c.UserVerified, &c.BackupEligible, &c.BackupState, &c.CloneWarning)
		c.Record, c.SignCount = []byte(record), uint32(count)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("store: passkey credentials: %w", err)
	}
	return out, nil
}

// WebAuthnUserID returns the operator's WebAuthn user handle, making one (32
// random bytes, never their name or id) on first use.
func (s *Store) WebAuthnUserID(ctx context.Context, operatorID int64) ([]byte, error) {
	fresh := make([]byte, 32)
	if _, err := rand.Read(fresh); err != nil {
		return nil, fmt.Errorf("store: webauthn user id: %w", err)
	}
	var id []byte
	err := s.pool.QueryRow(ctx, `UPDATE operators SET webauthn_user_id = coalesce(webauthn_user_id, $2)
		WHERE id = $1 RETURNING webauthn_user_id`, operatorID, fresh).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrOperatorNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: webauthn user id: %w", err)
	}
	return id, nil
}

// OperatorByWebAuthnID returns the operator whose WebAuthn user handle is id
// (a passkey sign-in names its person by it), or ErrPasskeyUnknown.
func (s *Store) OperatorByWebAuthnID(ctx context.Context, id []byte) (Operator, error) {
	rows, _ := s.pool.Query(ctx, `SELECT `+operatorColumns+` FROM operators WHERE webauthn_user_id = $1`, id)
	op, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Operator])
	if errors.Is(err, pgx.ErrNoRows) || len(id) == 0 {
		return Operator{}, ErrPasskeyUnknown
	}
	if err != nil {
		return Operator{}, fmt.Errorf("store: operator by webauthn id: %w", err)
	}
	return op, nil
}

// validPasskeyName checks a passkey's name: 1 to 64 characters of text.
func validPasskeyName(name string) error {
	n := utf8.RuneCountInString(name)
	if !utf8.ValidString(name) || containsNUL(name) || n < 1 || n > 64 || strings.TrimSpace(name) == "" {
		return &ValidationError{Fields: map[string]string{"name": "must be 1 to 64 characters, such as \"YubiKey 5C\" or \"work laptop\""}}
	}
	return nil
}

// AddPasskey registers a passkey the person just made (the WebAuthn
// ceremony verified it), named name, and audits mfa.passkey_register. A
// person's first second factor comes with ten recovery codes, returned to be
// shown once. A credential registered already is ErrPasskeyRegistered,
// audited as a denied mfa.passkey_register.
func (s *Store) AddPasskey(ctx context.Context, op Operator, name string, c PasskeyCredential, actor Actor, origin Origin) ([]string, error) {
	name = strings.TrimSpace(name)
	if err := validPasskeyName(name); err != nil {
		return nil, err
	}
	var codes []string
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		before, err := secondFactors(ctx, tx, op.ID)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO operator_passkeys (operator_id, name, credential_id, record, aaguid, sign_count,
				user_present, user_verified, backup_eligible, backup_state)
			VALUES ($1, $2, $3, $4::text::jsonb, $5, $6, $7, $8, $9, $10)`,
			op.ID, name, c.ID, string(c.Record), c.AAGUID, int64(c.SignCount), c.UserPresent, c.UserVerified, c.BackupEligible, c.BackupState)
		if isUniqueViolation(err) {
			return ErrPasskeyRegistered
		}
		if err != nil {
			return fmt.Errorf("store: add passkey: %w", err)
		}
		if err := s.insertAudit(ctx, tx, Event{Actor: actor, Origin: origin, Action: "mfa.passkey_register", Outcome: OutcomeSuccess,
			TargetType: "operator", TargetID: strconv.FormatInt(op.ID, 10), Details: map[string]any{"username": op.Username,
				"name": name, "aaguid": hex.EncodeToString(c.AAGUID), "user_verified": c.UserVerified, "backup_eligible": c.BackupEligible}}); err != nil {
			return err
		}
		if before.RecoveryLeft == 0 {
			codes, err = s.replaceRecoveryCodes(ctx, tx, op, actor, origin)
		}
		return err
	})
	if errors.Is(err, ErrPasskeyRegistered) {
		if aerr := s.Audit(ctx, Event{Actor: actor, Origin: origin, Action: "mfa.passkey_register", Outcome: OutcomeDenied,
			TargetType: "operator", TargetID: strconv.FormatInt(op.ID, 10),
			Details: map[string]any{"username": op.Username, "name": name, "reason": "registered already"}}); aerr != nil {
			return nil, aerr
		}
	}
	return codes, err
}

// RenamePasskey renames one of the operator's passkeys and audits
// mfa.passkey_rename.
func (s *Store) RenamePasskey(ctx context.Context, op Operator, id int64, name string, actor Actor, origin Origin) error {
	name = strings.TrimSpace(name)
	if err := validPasskeyName(name); err != nil {
		return err
	}
	return s.inTx(ctx, func(tx pgx.Tx) error {
		var old string
		err := tx.QueryRow(ctx, `SELECT name FROM operator_passkeys WHERE id = $1 AND operator_id = $2 FOR UPDATE`, id, op.ID).Scan(&old)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrPasskeyUnknown
		}
		if err != nil {
			return fmt.Errorf("store: rename passkey: %w", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE operator_passkeys SET name = $2 WHERE id = $1`, id, name); err != nil {
			return fmt.Errorf("store: rename passkey: %w", err)
		}
		return s.insertAudit(ctx, tx, Event{Actor: actor, Origin: origin, Action: "mfa.passkey_rename", Outcome: OutcomeSuccess,
			TargetType: "operator", TargetID: strconv.FormatInt(op.ID, 10),
			Details: map[string]any{"username": op.Username, "passkey": id, "from": old, "to": name}})
	})
}

// RemovePasskey removes one of the operator's passkeys (and, when no second
// factor is left, their recovery codes) and audits mfa.passkey_remove.
func (s *Store) RemovePasskey(ctx context.Context, op Operator, id int64, actor Actor, origin Origin) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		var name string
		err := tx.QueryRow(ctx, `DELETE FROM operator_passkeys WHERE id = $1 AND operator_id = $2 RETURNING name`, id, op.ID).Scan(&name)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrPasskeyUnknown
		}
		if err != nil {
			return fmt.Errorf("store: remove passkey: %w", err)
		}
		if err := dropRecoveryCodesWithoutFactor(ctx, tx, op.ID); err != nil {
			return err
		}
		return s.insertAudit(ctx, tx, Event{Actor: actor, Origin: origin, Action: "mfa.passkey_remove", Outcome: OutcomeSuccess,
			TargetType: "operator", TargetID: strconv.FormatInt(op.ID, 10),
			Details: map[string]any{"username": op.Username, "passkey": id, "name": name}})
	})
}

// VerifyPasskey checks a passkey assertion of c's person: like a code, it is
// throttled and counted first (recordAttempt); then verify checks the
// assertion against the person's credentials and returns the one used, as
// updated (its counter and flags). A failure is audited and is
// ErrBadPasskey. A counter that went backwards (a possible clone) marks the
// passkey, is audited as mfa.passkey_clone_warning, and is refused
// (ErrPasskeyCloned). On success the passkey's counter, flags and last use
// are kept and the check completes as VerifyCode's does; a passkey sign-in
// (CheckPasskeySignIn) needs a person who may sign in locally and an
// authenticator that checked their PIN or biometric.
func (s *Store) VerifyPasskey(ctx context.Context, c FactorCheck, verify func([]PasskeyCredential) (PasskeyCredential, error)) error {
	attempt, err := s.recordAttempt(ctx, c.who(), c.Origin)
	if err != nil {
		return err
	}
	creds, err := s.PasskeyCredentials(ctx, c.Operator.ID)
	if err != nil {
		return err
	}
	used, verr := verify(creds)
	switch {
	case verr != nil:
		d := c.details(FactorPasskey)
		d["error"] = auditText(verr.Error(), 200)
		return s.loginFailed(ctx, c.who(), reasonBadPasskey, c.Origin, ErrBadPasskey, d)
	case used.CloneWarning:
		if err := s.flagClonedPasskey(ctx, c, used); err != nil {
			return err
		}
		return s.loginFailed(ctx, c.who(), reasonCloneWarning, c.Origin, ErrPasskeyCloned, c.details(FactorPasskey))
	case c.Purpose == CheckPasskeySignIn:
		if reason := s.passkeySignInRefusal(c.Operator, used); reason != "" {
			return s.loginFailed(ctx, c.who(), reason, c.Origin, ErrBadCredentials, c.details(FactorPasskey))
		}
	}
	return s.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE operator_passkeys SET record = $3::text::jsonb, sign_count = $4, backup_state = $5,
				last_used_at = now()
			WHERE operator_id = $1 AND credential_id = $2`,
			c.Operator.ID, used.ID, string(used.Record), int64(used.SignCount), used.BackupState)
		if err != nil {
			return fmt.Errorf("store: use passkey: %w", err)
		}
		if tag.RowsAffected() != 1 {
			return ErrPasskeyUnknown
		}
		return s.succeed(ctx, tx, c, FactorPasskey, attempt)
	})
}

// passkeySignInRefusal is why a person may not sign in with a passkey alone
// ("" when they may): a disabled account, one that signs in through the
// identity provider or may not sign in locally (CONSOLE_LOCAL_LOGIN), or an
// authenticator that did not check who holds it.
func (s *Store) passkeySignInRefusal(op Operator, used PasskeyCredential) string {
	switch {
	case op.Disabled:
		return reasonDisabled
	case op.SSO || !s.passwordSignIn.allows(op):
		return reasonPasswordSignInOff
	case !used.UserVerified:
		return "user_not_verified"
	}
	return ""
}

// flagClonedPasskey marks the passkey whose counter went backwards and
// audits mfa.passkey_clone_warning.
func (s *Store) flagClonedPasskey(ctx context.Context, c FactorCheck, used PasskeyCredential) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		var id int64
		var name string
		var stored int64
		err := tx.QueryRow(ctx, `UPDATE operator_passkeys SET clone_warning = true WHERE operator_id = $1 AND credential_id = $2
			RETURNING id, name, sign_count`, c.Operator.ID, used.ID).Scan(&id, &name, &stored)
		if err != nil {
			return fmt.Errorf("store: flag passkey: %w", err)
		}
		d := c.details(FactorPasskey)
		d["passkey"], d["name"], d["stored_count"], d["presented_count"] = id, name, stored, used.SignCount
		return s.insertAudit(ctx, tx, Event{Actor: operatorActor(c.Operator), Origin: c.Origin, Action: "mfa.passkey_clone_warning",
			Outcome: OutcomeDenied, TargetType: "operator", TargetID: strconv.FormatInt(c.Operator.ID, 10), Details: d})
	})
}

// Ceremony purposes: what a WebAuthn ceremony is for.
const (
	CeremonyRegister     = "register"
	CeremonySecondFactor = "second_factor"
	CeremonyStepUp       = "step_up"
	CeremonySignIn       = "sign_in"
)

// ErrCeremonyNotFound means a passkey answer belongs to no ceremony in
// progress: unknown, finished already, expired, or begun elsewhere.
var ErrCeremonyNotFound = errors.New("store: no such passkey ceremony in progress")

// Ceremony is a WebAuthn ceremony in progress: what the WebAuthn library
// keeps between its two steps (Data, JSON), whose it is, and in which
// session it was begun ("" for a passkey sign-in, which has none yet).
type Ceremony struct {
	Purpose    string
	OperatorID int64 // 0 for a passkey sign-in
	SessionID  string
	Data       []byte
}

// BeginCeremony records a ceremony under the SHA-256 of its challenge (the
// raw bytes the browser signs), for ttl; expired ones are purged.
func (s *Store) BeginCeremony(ctx context.Context, challenge []byte, c Ceremony, ttl time.Duration) error {
	var op *int64
	if c.OperatorID != 0 {
		op = &c.OperatorID
	}
	var sess []byte
	if c.SessionID != "" {
		sess = sessionIDHash(c.SessionID)
	}
	return s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM webauthn_ceremonies WHERE expires_at <= now()`); err != nil {
			return fmt.Errorf("store: purge passkey ceremonies: %w", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO webauthn_ceremonies (challenge_hash, purpose, operator_id, session_hash, data, expires_at)
			VALUES ($1, $2, $3, $4, $5::text::jsonb, now() + $6::float8 * interval '1 second')`,
			challengeHash(challenge), c.Purpose, op, sess, string(c.Data), ttl.Seconds()); err != nil {
			return fmt.Errorf("store: begin passkey ceremony: %w", err)
		}
		return nil
	})
}

// FinishCeremony takes the ceremony of challenge out, once: it must be for
// purpose, begun in the session sessionID ("" for none) and not expired;
// else ErrCeremonyNotFound.
func (s *Store) FinishCeremony(ctx context.Context, challenge []byte, purpose, sessionID string) (Ceremony, error) {
	var sess []byte
	if sessionID != "" {
		sess = sessionIDHash(sessionID)
	}
	var c Ceremony
	var op *int64
	var data string
	err := s.pool.QueryRow(ctx, `DELETE FROM webauthn_ceremonies
		WHERE challenge_hash = $1 AND purpose = $2 AND session_hash IS NOT DISTINCT FROM $3 AND expires_at > now()
		RETURNING purpose, operator_id, data::text`, challengeHash(challenge), purpose, sess).Scan(&c.Purpose, &op, &data)
	if errors.Is(err, pgx.ErrNoRows) {
		return Ceremony{}, ErrCeremonyNotFound
	}
	if err != nil {
		return Ceremony{}, fmt.Errorf("store: finish passkey ceremony: %w", err)
	}
	if op != nil {
		c.OperatorID = *op
	}
	c.SessionID, c.Data = sessionID, []byte(data)
	return c, nil
}

// challengeHash is what the table keeps of a ceremony's challenge.
func challengeHash(challenge []byte) []byte {
	h := sha256.Sum256(challenge)
	return h[:]
}

// PasskeySignInFailed audits a passkey sign-in refused before its person was
// known (an answer that cannot be read, belongs to no ceremony, or names no
// one's passkey) as auth.login_failed and returns ErrBadPasskey.
func (s *Store) PasskeySignInFailed(ctx context.Context, origin Origin, why string) error {
	who := attemptedAccount{actor: Actor{Type: ActorAnonymous, Name: UnknownAccount}}
	return s.loginFailed(ctx, who, reasonBadPasskey, origin, ErrBadPasskey,
		map[string]any{"method": FactorPasskey, "purpose": CheckPasskeySignIn, "error": auditText(why, 200)})
}
