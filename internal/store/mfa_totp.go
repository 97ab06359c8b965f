package store

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base32"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// TOTP as every authenticator app does it (RFC 6238 with SHA-1, six digits,
// 30-second steps); a code of the step before or after the current one is
// accepted too, for clocks that drift.
const (
	totpDigits     = 6
	totpPeriod     = 30
	totpSkew       = 1
	totpSecretSize = 20
	// totpPendingTTL is how long an enrolment that was never confirmed keeps
	// its secret: a page shown again within it shows the same QR code.
	totpPendingTTL = 10 * time.Minute
)

// TOTPIssuer names the console in authenticator apps.
const TOTPIssuer = "ZEGO Token Console"

var totpEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// totpAD binds a sealed TOTP secret to its person.
func totpAD(operatorID int64) []byte { return fmt.Appendf(nil, "totp:%d", operatorID) }

// TOTPEnrolment is an authenticator app set-up in progress: the secret as
// text (for apps that cannot scan) and the otpauth:// URL the QR code holds.
type TOTPEnrolment struct {
	Secret string
	URL    string
}

// totpRow is a row of operator_totp.
type totpRow struct {
	KeyID       string     `db:"key_id"`
	Ciphertext  []byte     `db:"ciphertext"`
	LastStep    int64      `db:"last_step"`
	ConfirmedAt *time.Time `db:"confirmed_at"`
	Fresh       bool       `db:"fresh"` // a pending enrolment still within totpPendingTTL
}

// lockTOTP reads and locks the operator's TOTP row in tx; nil when there is none.
func lockTOTP(ctx context.Context, tx pgx.Tx, operatorID int64) (*totpRow, error) {
	rows, _ := tx.Query(ctx, `SELECT key_id, ciphertext, last_step, confirmed_at,
			created_at > now() - $2::float8 * interval '1 second' AS fresh
		FROM operator_totp WHERE operator_id = $1 FOR UPDATE`, operatorID, totpPendingTTL.Seconds())
	row, err := pgx.CollectExactlyOneRow(rows, pgx.RowToAddrOfStructByName[totpRow])
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: read totp: %w", err)
	}
	return row, nil
}

// BeginTOTP starts (or, within 10 minutes, shows again) the set-up of an
// authenticator app: a fresh secret, sealed under the master key, that
// counts only once ConfirmTOTP saw a code of it. A person who has one
// already gets ErrTOTPEnrolled.
func (s *Store) BeginTOTP(ctx context.Context, op Operator) (TOTPEnrolment, error) {
	var secret []byte
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		row, err := lockTOTP(ctx, tx, op.ID)
		if err != nil {
			return err
		}
		if row != nil && row.ConfirmedAt != nil {
			return ErrTOTPEnrolled
		}
		if row != nil && row.Fresh {
			secret, err = s.keys.openBound(row.KeyID, totpAD(op.ID), row.Ciphertext)
			return err
		}
		secret = make([]byte, totpSecretSize)
		if _, err := rand.Read(secret); err != nil {
			return fmt.Errorf("store: totp secret: %w", err)
		}
		keyID, ct, err := s.keys.sealBound(totpAD(op.ID), secret)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO operator_totp (operator_id, key_id, ciphertext) VALUES ($1, $2, $3)
			ON CONFLICT (operator_id) DO UPDATE SET key_id = $2, ciphertext = $3, last_step = 0, created_at = now()`,
			op.ID, keyID, ct)
		if err != nil {
			return fmt.Errorf("store: begin totp: %w", err)
		}
		return nil
	})
	if err != nil {
		return TOTPEnrolment{}, err
	}
	defer clear(secret)
	key, err := totp.Generate(totp.GenerateOpts{Issuer: TOTPIssuer, AccountName: op.Username, Period: totpPeriod,
		Secret: secret, SecretSize: totpSecretSize, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		return TOTPEnrolment{}, fmt.Errorf("store: totp key: %w", err)
	}
	return TOTPEnrolment{Secret: key.Secret(), URL: key.URL()}, nil
}

// ConfirmTOTP finishes the set-up of an authenticator app with one valid
// code of it and audits mfa.totp_enrol. A person who had no recovery codes
// gets ten, returned to be shown once. A wrong code is a ValidationError on
// "code" (audited as a denied mfa.totp_enrol) and changes nothing.
func (s *Store) ConfirmTOTP(ctx context.Context, op Operator, code string, actor Actor, origin Origin) ([]string, error) {
	var codes []string
	wrong := false
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		row, err := lockTOTP(ctx, tx, op.ID)
		if err != nil {
			return err
		}
		if row == nil {
			return ErrNoTOTPPending
		}
		if row.ConfirmedAt != nil {
			return ErrTOTPEnrolled
		}
		secret, err := s.keys.openBound(row.KeyID, totpAD(op.ID), row.Ciphertext)
		if err != nil {
			return err
		}
		step := s.totpStep(secret, code)
		clear(secret)
		if step < 0 {
			wrong = true
			return nil
		}
		if _, err := tx.Exec(ctx, `UPDATE operator_totp SET confirmed_at = now(), last_step = $2 WHERE operator_id = $1`,
			op.ID, step); err != nil {
			return fmt.Errorf("store: confirm totp: %w", err)
		}
		if err := s.insertAudit(ctx, tx, Event{Actor: actor, Origin: origin, Action: "mfa.totp_enrol", Outcome: OutcomeSuccess,
			TargetType: "operator", TargetID: strconv.FormatInt(op.ID, 10), Details: map[string]any{"username": op.Username}}); err != nil {
			return err
		}
		var left int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM operator_recovery_codes WHERE operator_id = $1 AND used_at IS NULL`,
			op.ID).Scan(&left); err != nil {
			return fmt.Errorf("store: count recovery codes: %w", err)
		}
		if left == 0 {
			codes, err = s.replaceRecoveryCodes(ctx, tx, op, actor, origin)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if wrong {
		if err := s.Audit(ctx, Event{Actor: actor, Origin: origin, Action: "mfa.totp_enrol", Outcome: OutcomeDenied,
			TargetType: "operator", TargetID: strconv.FormatInt(op.ID, 10),
			Details: map[string]any{"username": op.Username, "reason": reasonBadCode}}); err != nil {
			return nil, err
		}
		return nil, &ValidationError{Fields: map[string]string{"code": "is not the current code of your authenticator app: check that the device's clock is right and type the code it shows now"}}
	}
	return codes, nil
}

// RemoveTOTP removes the operator's authenticator app (and, when no passkey
// is left, their recovery codes) and audits mfa.totp_remove. Without one it
// does nothing.
func (s *Store) RemoveTOTP(ctx context.Context, op Operator, actor Actor, origin Origin) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM operator_totp WHERE operator_id = $1 AND confirmed_at IS NOT NULL`, op.ID)
		if err != nil {
			return fmt.Errorf("store: remove totp: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return nil
		}
		if err := dropRecoveryCodesWithoutFactor(ctx, tx, op.ID); err != nil {
			return err
		}
		return s.insertAudit(ctx, tx, Event{Actor: actor, Origin: origin, Action: "mfa.totp_remove", Outcome: OutcomeSuccess,
			TargetType: "operator", TargetID: strconv.FormatInt(op.ID, 10), Details: map[string]any{"username": op.Username}})
	})
}

// useTOTPCode accepts a code of the operator's authenticator app in tx, once:
// the step it belongs to must come after the last one accepted. It returns
// false and the reason when the code is refused.
func (s *Store) useTOTPCode(ctx context.Context, tx pgx.Tx, operatorID int64, code string) (bool, string, error) {
	row, err := lockTOTP(ctx, tx, operatorID)
	if err != nil || row == nil || row.ConfirmedAt == nil {
		return false, reasonBadCode, err
	}
	secret, err := s.keys.openBound(row.KeyID, totpAD(operatorID), row.Ciphertext)
	if err != nil {
		return false, "", err
	}
	step := s.totpStep(secret, code)
	clear(secret)
	switch {
	case step < 0:
		return false, reasonBadCode, nil
	case step <= row.LastStep:
		return false, reasonReplayed, nil
	}
	if _, err := tx.Exec(ctx, `UPDATE operator_totp SET last_step = $2 WHERE operator_id = $1`, operatorID, step); err != nil {
		return false, "", fmt.Errorf("store: use totp code: %w", err)
	}
	return true, "", nil
}

// totpStep is the time step (at the sign-in clock) whose code under secret
// is code, within the accepted skew; -1 when none is.
func (s *Store) totpStep(secret []byte, code string) int64 {
	if len(code) != totpDigits {
		return -1
	}
	b32 := totpEncoding.EncodeToString(secret)
	now := s.loginNow().Unix() / totpPeriod
	found := int64(-1)
	for step := now - totpSkew; step <= now+totpSkew; step++ {
		want, err := totp.GenerateCodeCustom(b32, time.Unix(step*totpPeriod, 0),
			totp.ValidateOpts{Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		if err == nil && subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			found = step
		}
	}
	return found
}

// rekeyTOTP re-encrypts, in tx, every TOTP secret sealed under an older
// master key and says how many.
func (s *Store) rekeyTOTP(ctx context.Context, tx pgx.Tx) (int, error) {
	type sealed struct {
		OperatorID int64  `db:"operator_id"`
		KeyID      string `db:"key_id"`
		Ciphertext []byte `db:"ciphertext"`
	}
	rows, _ := tx.Query(ctx, `SELECT operator_id, key_id, ciphertext FROM operator_totp WHERE key_id <> $1 FOR UPDATE`,
		s.keys.CurrentID())
	old, err := pgx.CollectRows(rows, pgx.RowToStructByName[sealed])
	if err != nil {
		return 0, fmt.Errorf("store: rekey totp: %w", err)
	}
	for _, o := range old {
		plain, err := s.keys.openBound(o.KeyID, totpAD(o.OperatorID), o.Ciphertext)
		if err != nil {
			return 0, fmt.Errorf("store: rekey totp: %w", err)
		}
		keyID, ct, err := s.keys.sealBound(totpAD(o.OperatorID), plain)
		clear(plain)
		if err != nil {
			return 0, err
		}
		if _, err := tx.Exec(ctx, `UPDATE operator_totp SET key_id = $2, ciphertext = $3 WHERE operator_id = $1`,
			o.OperatorID, keyID, ct); err != nil {
			return 0, fmt.Errorf("store: rekey totp: %w", err)
		}
	}
	return len(old), nil
}
