package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Second factors, as audit events and sessions name them.
const (
	FactorTOTP         = "totp"
	FactorRecoveryCode = "recovery_code"
	FactorPasskey      = "passkey"
	FactorPassword     = "password" // a step-up of a person who has no second factor
)

// Why a person proves who they are: the second step of a password sign-in,
// or a step-up before a dangerous action.
const (
	CheckSignIn = "sign_in"
	CheckStepUp = "step_up"
)

// Errors of the second factor. ErrBadCode is the same for a wrong, reused or
// malformed code, so that a caller learns nothing more.
var (
	ErrBadCode        = errors.New("store: wrong or already used code")
	ErrTOTPEnrolled   = errors.New("store: an authenticator app is already set up; remove it first")
	ErrNoTOTPPending  = errors.New("store: no authenticator app set-up in progress")
	ErrNoSecondFactor = errors.New("store: no second factor to check")
)

// Reasons of failed factor checks, in their audit events.
const (
	reasonBadCode  = "bad_code"
	reasonReplayed = "replayed_code"
)

// RecoveryCodeCount is how many recovery codes a person gets at a time.
const RecoveryCodeCount = 10

// FactorCheck is one proof a person is asked for: what for, in which
// session (the raw id of the cookie), from where.
type FactorCheck struct {
	Operator  Operator
	Purpose   string // CheckSignIn or CheckStepUp
	For       string // a step-up's action, such as project.secret_rotate
	SessionID string // the session the check is made in
	Origin    Origin
}

// failAction is the audit action of a failed check.
func (c FactorCheck) failAction() string {
	if c.Purpose == CheckStepUp {
		return "auth.stepup_failed"
	}
	return "auth.login_failed"
}

// who is what a check is throttled against and audited as: the person's
// account, as for their password.
func (c FactorCheck) who() attemptedAccount {
	return attemptedAccount{key: c.Operator.Username, actor: operatorActor(c.Operator), action: c.failAction()}
}

// details are those of the check's audit events.
func (c FactorCheck) details(method string) map[string]any {
	d := map[string]any{"method": method, "purpose": c.Purpose}
	if c.For != "" {
		d["for"] = c.For
	}
	return d
}

// VerifyCode checks a code the person typed: a TOTP code of their
// authenticator app (6 digits) or one of their recovery codes. It is
// throttled and counted like a password (recordAttempt); a failure is
// audited (auth.login_failed or auth.stepup_failed) and is ErrBadCode. On
// success it returns the method and completes the check (see succeed).
func (s *Store) VerifyCode(ctx context.Context, c FactorCheck, code string) (string, error) {
	code = strings.ToLower(strings.NewReplacer(" ", "", "-", "").Replace(strings.TrimSpace(code)))
	method := FactorTOTP
	if len(code) != totpDigits {
		method = FactorRecoveryCode
	}
	attempt, err := s.recordAttempt(ctx, c.who(), c.Origin)
	if err != nil {
		return "", err
	}
	var reason string
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		var ok bool
		var err error
		if method == FactorTOTP {
			ok, reason, err = s.useTOTPCode(ctx, tx, c.Operator.ID, code)
		} else {
			ok, err = s.useRecoveryCode(ctx, tx, c, code)
			reason = reasonBadCode
		}
		if err != nil || !ok {
			return err
		}
		reason = ""
		return s.succeed(ctx, tx, c, method, attempt)
	})
	if err != nil {
		return "", err
	}
	if reason != "" {
		d := c.details(method)
		return "", s.loginFailed(ctx, c.who(), reason, c.Origin, ErrBadCode, d)
	}
	return method, nil
}

// VerifyPassword is the step-up of a person who has no second factor: their
// password again, throttled, counted and audited like VerifyCode.
func (s *Store) VerifyPassword(ctx context.Context, c FactorCheck, password string) error {
	attempt, err := s.recordAttempt(ctx, c.who(), c.Origin)
	if err != nil {
		return err
	}
	ok, err := s.checkOwnPassword(ctx, c.Operator.ID, password)
	if err != nil {
		return err
	}
	if !ok {
		return s.loginFailed(ctx, c.who(), reasonBadPassword, c.Origin, ErrBadCredentials, c.details(FactorPassword))
	}
	return s.inTx(ctx, func(tx pgx.Tx) error { return s.succeed(ctx, tx, c, FactorPassword, attempt) })
}

// checkOwnPassword tells whether password is the operator's (false for
// someone without one), within the bound of argon2 checks running at once.
func (s *Store) checkOwnPassword(ctx context.Context, operatorID int64, password string) (bool, error) {
	var hash string
	if err := s.pool.QueryRow(ctx, `SELECT coalesce(password_hash, '') FROM operators WHERE id = $1`, operatorID).Scan(&hash); err != nil {
		return false, fmt.Errorf("store: check password: %w", err)
	}
	if hash == "" {
		return false, nil
	}
	select {
	case s.passwordChecks <- struct{}{}:
		defer func() { <-s.passwordChecks }()
	case <-ctx.Done():
		return false, ctx.Err()
	}
	ok, err := CheckPassword(hash, password)
	if err != nil {
		return false, fmt.Errorf("store: check password: %w", err)
	}
	return ok, nil
}

// succeed completes a check in tx: the attempt is no failure after all, nor
// are the earlier failures of the account from this address (the owner's own
// typos, as at a sign-in). A sign-in's second step is audited as
// auth.second_factor, a passkey sign-in as auth.login, and both are noted as
// the person's last sign-in; a step-up is audited as auth.stepup and makes
// the session verified now.
func (s *Store) succeed(ctx context.Context, tx pgx.Tx, c FactorCheck, method string, attempt int64) error {
	if _, err := tx.Exec(ctx, `DELETE FROM login_failures WHERE id = $1 OR (username = $2 AND client_ip = $3 AND $3 <> '')`,
		attempt, c.Operator.Username, c.Origin.ClientIP); err != nil {
		return fmt.Errorf("store: clear login failures: %w", err)
	}
	action, details := "auth.second_factor", c.details(method)
	switch c.Purpose {
	case CheckStepUp:
		action = "auth.stepup"
		if err := markVerified(ctx, tx, c.SessionID); err != nil {
			return err
		}
	case CheckPasskeySignIn:
		action, details = "auth.login", s.passwordSignIn.details()
		details["method"] = SignInPasskey
		if err := recordSignIn(ctx, tx, c.Operator.ID, SignInPasskey); err != nil {
			return err
		}
	default:
		if err := recordSignIn(ctx, tx, c.Operator.ID, SignInPassword); err != nil {
			return err
		}
	}
	return s.insertAudit(ctx, tx, Event{Actor: operatorActor(c.Operator), Origin: c.Origin, Action: action,
		Outcome: OutcomeSuccess, TargetType: "operator", TargetID: strconv.FormatInt(c.Operator.ID, 10), Details: details})
}

// recoveryEncoding spells recovery codes: lower-case base32, no padding.
var recoveryEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// recoveryCodeHash is what the table keeps of a recovery code, as typed
// (lower case, without spaces or dashes).
func recoveryCodeHash(code string) []byte {
	h := sha256.Sum256([]byte("zego-console recovery code\x00" + code))
	return h[:]
}

// newRecoveryCodes makes RecoveryCodeCount codes of 80 random bits each,
// shown as xxxx-xxxx-xxxx-xxxx.
func newRecoveryCodes() ([]string, error) {
	codes := make([]string, RecoveryCodeCount)
	for i := range codes {
		b := make([]byte, 10)
		if _, err := rand.Read(b); err != nil {
			return nil, fmt.Errorf("store: recovery codes: %w", err)
		}
		c := recoveryEncoding.EncodeToString(b)
		codes[i] = c[0:4] + "-" + c[4:8] + "-" + c[8:12] + "-" + c[12:16]
	}
	return codes, nil
}

// replaceRecoveryCodes gives the operator fresh recovery codes in tx (the old
// ones stop working) and audits mfa.recovery_codes_generate.
func (s *Store) replaceRecoveryCodes(ctx context.Context, tx pgx.Tx, op Operator, actor Actor, origin Origin) ([]string, error) {
	codes, err := newRecoveryCodes()
	if err != nil {
		return nil, err
	}
	if _, err := tx.Exec(ctx, `DELETE FROM operator_recovery_codes WHERE operator_id = $1`, op.ID); err != nil {
		return nil, fmt.Errorf("store: replace recovery codes: %w", err)
	}
	for _, c := range codes {
		if _, err := tx.Exec(ctx, `INSERT INTO operator_recovery_codes (operator_id, code_hash) VALUES ($1, $2)`,
			op.ID, recoveryCodeHash(strings.ReplaceAll(c, "-", ""))); err != nil {
			return nil, fmt.Errorf("store: replace recovery codes: %w", err)
		}
	}
	return codes, s.insertAudit(ctx, tx, Event{Actor: actor, Origin: origin, Action: "mfa.recovery_codes_generate", Outcome: OutcomeSuccess,
		TargetType: "operator", TargetID: strconv.FormatInt(op.ID, 10), Details: map[string]any{"username": op.Username, "codes": len(codes)}})
}

// GenerateRecoveryCodes replaces the operator's recovery codes with fresh
// ones, returned to be shown once; only their hashes are kept. A person
// without a second factor has no use for them: ErrNoSecondFactor.
func (s *Store) GenerateRecoveryCodes(ctx context.Context, op Operator, actor Actor, origin Origin) ([]string, error) {
	var codes []string
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		f, err := secondFactors(ctx, tx, op.ID)
		if err != nil {
			return err
		}
		if !f.Any() {
			return ErrNoSecondFactor
		}
		codes, err = s.replaceRecoveryCodes(ctx, tx, op, actor, origin)
		return err
	})
	return codes, err
}

// useRecoveryCode spends one recovery code in tx, auditing
// mfa.recovery_code_use with how many are left; false when the code is not
// one of the person's unused codes.
func (s *Store) useRecoveryCode(ctx context.Context, tx pgx.Tx, c FactorCheck, code string) (bool, error) {
	if len(code) != 16 {
		return false, nil
	}
	tag, err := tx.Exec(ctx, `UPDATE operator_recovery_codes SET used_at = now()
		WHERE operator_id = $1 AND code_hash = $2 AND used_at IS NULL`, c.Operator.ID, recoveryCodeHash(code))
	if err != nil {
		return false, fmt.Errorf("store: use recovery code: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return false, nil
	}
	var left int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM operator_recovery_codes WHERE operator_id = $1 AND used_at IS NULL`,
		c.Operator.ID).Scan(&left); err != nil {
		return false, fmt.Errorf("store: count recovery codes: %w", err)
	}
	d := c.details(FactorRecoveryCode)
	d["left"] = left
	return true, s.insertAudit(ctx, tx, Event{Actor: operatorActor(c.Operator), Origin: c.Origin, Action: "mfa.recovery_code_use",
		Outcome: OutcomeSuccess, TargetType: "operator", TargetID: strconv.FormatInt(c.Operator.ID, 10), Details: d})
}

// SecondFactors are what a person has to prove who they are, besides a
// password.
type SecondFactors struct {
	TOTPSince    *time.Time // when the authenticator app was set up; nil: none
	RecoveryLeft int        // unused recovery codes
	Passkeys     []Passkey
}

// Any tells whether the person has a second factor.
func (f SecondFactors) Any() bool { return f.TOTPSince != nil || len(f.Passkeys) > 0 }

// SecondFactors returns the operator's second factors.
func (s *Store) SecondFactors(ctx context.Context, operatorID int64) (SecondFactors, error) {
	return secondFactors(ctx, s.pool, operatorID)
}

func secondFactors(ctx context.Context, db dbtx, operatorID int64) (SecondFactors, error) {
	var f SecondFactors
	err := db.QueryRow(ctx, `SELECT
			(SELECT confirmed_at FROM operator_totp WHERE operator_id = $1),
			(SELECT count(*) FROM operator_recovery_codes WHERE operator_id = $1 AND used_at IS NULL)`,
		operatorID).Scan(&f.TOTPSince, &f.RecoveryLeft)
	if err != nil {
		return f, fmt.Errorf("store: second factors: %w", err)
	}
	if f.Passkeys, err = listPasskeys(ctx, db, operatorID); err != nil {
		return f, err
	}
	return f, nil
}

// dropRecoveryCodesWithoutFactor deletes, in tx, the recovery codes of a
// person who no longer has a second factor they could stand in for.
func dropRecoveryCodesWithoutFactor(ctx context.Context, tx pgx.Tx, operatorID int64) error {
	_, err := tx.Exec(ctx, `DELETE FROM operator_recovery_codes WHERE operator_id = $1
		AND NOT EXISTS (SELECT 1 FROM operator_totp WHERE operator_id = $1 AND confirmed_at IS NOT NULL)
		AND NOT EXISTS (SELECT 1 FROM operator_passkeys WHERE operator_id = $1)`, operatorID)
	if err != nil {
		return fmt.Errorf("store: drop recovery codes: %w", err)
	}
	return nil
}

// ResetSecondFactors removes every second factor of the operator named
// username (authenticator app, passkeys, recovery codes) and ends their
// sessions, for a person who lost them all; it audits mfa.reset with what
// went and returns how many factors that was. Under CONSOLE_MFA they set one
// up again at their next sign-in.
func (s *Store) ResetSecondFactors(ctx context.Context, username string, actor Actor, origin Origin) (int64, error) {
	var removed int64
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var id int64
		err := tx.QueryRow(ctx, `SELECT id FROM operators WHERE username = $1 FOR UPDATE`, username).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrOperatorNotFound
		}
		if err != nil {
			return fmt.Errorf("store: reset second factors: %w", err)
		}
		counts := map[string]any{"username": username}
		for _, table := range []string{"operator_totp", "operator_passkeys", "operator_recovery_codes"} {
			tag, err := tx.Exec(ctx, `DELETE FROM `+table+` WHERE operator_id = $1`, id)
			if err != nil {
				return fmt.Errorf("store: reset second factors: %w", err)
			}
			counts[strings.TrimPrefix(table, "operator_")] = tag.RowsAffected()
			if table != "operator_recovery_codes" {
				removed += tag.RowsAffected()
			}
		}
		if err := deleteOperatorSessions(ctx, tx, id); err != nil {
			return err
		}
		return s.insertAudit(ctx, tx, Event{Actor: actor, Origin: origin, Action: "mfa.reset", Outcome: OutcomeSuccess,
			TargetType: "operator", TargetID: strconv.FormatInt(id, 10), Details: counts})
	})
	return removed, err
}
