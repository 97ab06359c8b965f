package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"
)

// Sign-in errors. ErrBadCredentials is the same for an unknown user, a wrong
// password and a disabled account, so that a caller learns nothing more.
var (
	ErrBadCredentials = errors.New("store: invalid username or password")
	ErrLoginThrottled = errors.New("store: too many failed sign-ins, try again later")
)

// Throttling limits, counted over loginWindow across every console instance.
const (
	maxFailuresPerAccount = 5
	maxFailuresPerIP      = 20
	loginWindow           = `interval '15 minutes'`
)

// Reasons recorded in auth.login_failed events.
const (
	reasonBadPassword = "bad_password"
	reasonUnknownUser = "unknown_user"
	reasonDisabled    = "disabled"
	reasonThrottled   = "throttled"
)

// Authenticate checks a username and password. Throttling is decided before
// the password is looked at; every failure is recorded for throttling and
// audited as auth.login_failed, a success as auth.login. An empty client IP
// is not throttled by address (every such request would share one bucket).
func (s *Store) Authenticate(ctx context.Context, username, password string, origin Origin) (Operator, error) {
	name := cleanName(username)
	if err := s.recordAttempt(ctx, name, origin); err != nil {
		return Operator{}, err
	}
	// Each check holds ~19 MiB for tens of milliseconds: bound how many run
	// at once so that a burst of sign-ins cannot exhaust memory.
	select {
	case s.passwordChecks <- struct{}{}:
		defer func() { <-s.passwordChecks }()
	case <-ctx.Done():
		return Operator{}, ctx.Err()
	}

	rows, _ := s.pool.Query(ctx, `SELECT `+operatorColumns+`, coalesce(password_hash, '') AS password_hash
		FROM operators WHERE username = $1`, name)
	found, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[operatorWithHash])
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return Operator{}, fmt.Errorf("store: authenticate: %w", err)
	}
	if errors.Is(err, pgx.ErrNoRows) || name != username || found.PasswordHash == "" { // "": signs in only through SSO
		// Spend the same argon2 time as for a real account.
		if dh, err := s.dummyHash(); err == nil {
			_, _ = CheckPassword(dh, password)
		}
		return Operator{}, s.loginFailed(ctx, name, reasonUnknownUser, origin, ErrBadCredentials)
	}
	op, hash := found.Operator, found.PasswordHash
	ok, err := CheckPassword(hash, password)
	if err != nil {
		return Operator{}, fmt.Errorf("store: authenticate %s: %w", op.Username, err)
	}
	if !ok {
		return Operator{}, s.loginFailed(ctx, name, reasonBadPassword, origin, ErrBadCredentials)
	}
	if op.Disabled {
		return Operator{}, s.loginFailed(ctx, name, reasonDisabled, origin, ErrBadCredentials)
	}
	if !s.passwordSignIn.allows(op) {
		return Operator{}, s.loginFailed(ctx, name, reasonPasswordSignInOff, origin, ErrPasswordSignInOff)
	}

	err = s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM login_failures WHERE username = $1`, op.Username); err != nil {
			return fmt.Errorf("store: clear login failures: %w", err)
		}
		if err := recordSignIn(ctx, tx, op.ID, SignInPassword); err != nil {
			return err
		}
		return s.insertAudit(ctx, tx, Event{
			Actor: operatorActor(op), Origin: origin, Action: "auth.login", Outcome: OutcomeSuccess,
			TargetType: "operator", TargetID: strconv.FormatInt(op.ID, 10), Details: s.passwordSignIn.details(),
		})
	})
	if err != nil {
		return Operator{}, err
	}
	return op, nil
}

// recordAttempt counts the recent failures of the account and the address
// and, unless they are over the limit, records this attempt as a failure
// before the password is checked (a success clears it). Counting and
// recording happen under a per-account lock, so parallel attempts see each
// other: a burst of guesses cannot all pass the count before any is written.
func (s *Store) recordAttempt(ctx context.Context, name string, origin Origin) error {
	throttled := false
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('console.login:' || $1))`, name); err != nil {
			return fmt.Errorf("store: authenticate: lock account: %w", err)
		}
		var perAccount, perIP int
		if err := tx.QueryRow(ctx, `
			SELECT count(*) FILTER (WHERE username = $1), count(*) FILTER (WHERE client_ip = $2 AND $2 <> '')
			FROM login_failures
			WHERE at > now() - `+loginWindow+` AND (username = $1 OR (client_ip = $2 AND $2 <> ''))`,
			name, origin.ClientIP).Scan(&perAccount, &perIP); err != nil {
			return fmt.Errorf("store: authenticate: count failures: %w", err)
		}
		throttled = perAccount >= maxFailuresPerAccount || perIP >= maxFailuresPerIP
		if throttled {
			return nil
		}
		_, err := tx.Exec(ctx, `INSERT INTO login_failures (username, client_ip) VALUES ($1, $2)`, name, origin.ClientIP)
		if err != nil {
			return fmt.Errorf("store: record login attempt: %w", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if throttled {
		return s.loginFailed(ctx, name, reasonThrottled, origin, ErrLoginThrottled)
	}
	return nil
}

// operatorWithHash is the one read that needs the password hash.
type operatorWithHash struct {
	Operator
	PasswordHash string `db:"password_hash"`
}

// loginFailed audits a failed sign-in and returns result (or the error that
// prevented auditing). A throttled attempt is also recorded as a failure
// (the others were recorded by recordAttempt before the password check).
func (s *Store) loginFailed(ctx context.Context, name, reason string, origin Origin, result error) error {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if reason == reasonThrottled {
			if _, err := tx.Exec(ctx, `INSERT INTO login_failures (username, client_ip) VALUES ($1, $2)`,
				name, origin.ClientIP); err != nil {
				return fmt.Errorf("store: record login failure: %w", err)
			}
		}
		return s.insertAudit(ctx, tx, Event{
			Actor:  Actor{Type: ActorAnonymous, Name: name},
			Origin: origin, Action: "auth.login_failed", Outcome: OutcomeDenied,
			Details: map[string]any{"reason": reason},
		})
	})
	if err != nil {
		return err
	}
	return result
}

// PurgeLoginFailures deletes failures older than a day (long past the
// throttling window; the audit trail keeps the record) and says how many.
func (s *Store) PurgeLoginFailures(ctx context.Context) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM login_failures WHERE at < now() - interval '1 day'`)
	if err != nil {
		return 0, fmt.Errorf("store: purge login failures: %w", err)
	}
	return tag.RowsAffected(), nil
}

// cleanName makes an attempted username safe to store: valid UTF-8 without
// NUL bytes, at most 64 bytes, cut on a character boundary.
func cleanName(s string) string { return auditText(s, 64) }
