package store

import (
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
)

// Sign-in errors. ErrBadCredentials is the same for an unknown user, a wrong
// password and a disabled account, so that a caller learns nothing more.
// A throttled sign-in is a *LoginThrottledError, which matches
// ErrLoginThrottled and says how long to wait.
var (
	ErrBadCredentials = errors.New("store: invalid username or password")
	ErrLoginThrottled = errors.New("store: too many failed sign-ins, try again later")
)

// LoginThrottledError is a sign-in refused before its password was looked
// at: RetryAfter is how long until the same attempt would be considered.
type LoginThrottledError struct {
	RetryAfter time.Duration
	Limit      string // which limit refused it: account_address, address or account
}

// Error says which limit refused the sign-in and how long to wait.
func (e *LoginThrottledError) Error() string {
	return fmt.Sprintf("%v (%s limit; retry after %v)", ErrLoginThrottled, e.Limit, e.RetryAfter.Round(time.Second))
}

// Unwrap makes errors.Is(err, ErrLoginThrottled) hold.
func (e *LoginThrottledError) Unwrap() error { return ErrLoginThrottled }

// Throttling limits, counted over loginWindow across every console instance.
// An address that fails too often waits out the window: it only locks out
// itself. An account that fails too often from anywhere is never locked:
// each further attempt must wait a delay since its last failure, which
// doubles with every failure up to a cap, so that guessing from many
// addresses slows down while its owner still gets in after the delay.
const (
	maxFailuresPerAccountIP = 5  // one account from one address
	maxFailuresPerIP        = 20 // any accounts from one address
	maxFailuresPerAccount   = 5  // one account from any address, before the delay starts
	loginWindow             = 15 * time.Minute
	defaultLoginDelay       = time.Second
	defaultLoginDelayMax    = 5 * time.Minute
)

// Limits a throttled sign-in names.
const (
	limitAccountIP = "account_address"
	limitIP        = "address"
	limitAccount   = "account"
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
// audited as auth.login_failed, a success as auth.login. A throttled attempt
// is audited but not recorded as a failure (else refusals would prolong the
// throttling forever). An empty client IP is not throttled by address
// (every such request would share one bucket). A username that is no
// operator's is neither stored nor audited as typed (see unknownAccount).
func (s *Store) Authenticate(ctx context.Context, username, password string, origin Origin) (Operator, error) {
	name := cleanName(username)
	rows, _ := s.pool.Query(ctx, `SELECT `+operatorColumns+`, coalesce(password_hash, '') AS password_hash
		FROM operators WHERE username = $1`, name)
	found, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[operatorWithHash])
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return Operator{}, fmt.Errorf("store: authenticate: %w", err)
	}
	known := err == nil && name == username
	who := attemptedAccount{key: name, actor: Actor{Type: ActorAnonymous, Name: name}}
	if !known {
		who = s.unknownAccount(username)
	}
	attempt, err := s.recordAttempt(ctx, who, origin)
	if err != nil {
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
	if !known || found.PasswordHash == "" { // "": signs in only through SSO
		// Spend the same argon2 time as for a real account.
		if dh, err := s.dummyHash(); err == nil {
			_, _ = CheckPassword(dh, password)
		}
		return Operator{}, s.loginFailed(ctx, who, reasonUnknownUser, origin, ErrBadCredentials, nil)
	}
	op, hash := found.Operator, found.PasswordHash
	ok, err := CheckPassword(hash, password)
	if err != nil {
		return Operator{}, fmt.Errorf("store: authenticate %s: %w", op.Username, err)
	}
	if !ok {
		return Operator{}, s.loginFailed(ctx, who, reasonBadPassword, origin, ErrBadCredentials, nil)
	}
	if op.Disabled {
		return Operator{}, s.loginFailed(ctx, who, reasonDisabled, origin, ErrBadCredentials, nil)
	}
	if !s.passwordSignIn.allows(op) {
		return Operator{}, s.loginFailed(ctx, who, reasonPasswordSignInOff, origin, ErrPasswordSignInOff, nil)
	}

	err = s.inTx(ctx, func(tx pgx.Tx) error {
		details := s.passwordSignIn.details()
		if op.TOTP || op.Passkeys > 0 {
			// Signed in only once the second factor is given, which then
			// clears the failures (wrong codes included) of this address.
			details["second_factor"] = "pending"
			return s.signInStepDone(ctx, tx, op, details, attempt, origin, false)
		}
		if err := recordSignIn(ctx, tx, op.ID, SignInPassword); err != nil {
			return err
		}
		return s.signInStepDone(ctx, tx, op, details, attempt, origin, true)
	})
	if err != nil {
		return Operator{}, err
	}
	return op, nil
}

// signInStepDone clears, in tx, a successful attempt and, when the sign-in
// is complete, the failures from its address: the owner's own typos.
// Failures from elsewhere stay, so that signing in does not give an
// attacker elsewhere a fresh set of guesses. It audits auth.login.
func (s *Store) signInStepDone(ctx context.Context, tx pgx.Tx, op Operator, details map[string]any, attempt int64, origin Origin, complete bool) error {
	if _, err := tx.Exec(ctx, `DELETE FROM login_failures
		WHERE id = $1 OR ($4 AND username = $2 AND client_ip = $3 AND $3 <> '')`, attempt, op.Username, origin.ClientIP, complete); err != nil {
		return fmt.Errorf("store: clear login failures: %w", err)
	}
	return s.insertAudit(ctx, tx, Event{
		Actor: operatorActor(op), Origin: origin, Action: "auth.login", Outcome: OutcomeSuccess,
		TargetType: "operator", TargetID: strconv.FormatInt(op.ID, 10), Details: details,
	})
}

// UnknownAccount is the actor name of a failed sign-in whose username is no
// operator's: what was typed may well be a password, so it is never kept.
const UnknownAccount = "unknown account"

// attemptedAccount is what a sign-in attempt is counted against (key, in
// login_failures) and audited as (actor, and the action of a failure:
// auth.login_failed when empty).
type attemptedAccount struct {
	key    string
	actor  Actor
	action string
}

// unknownAccount stands for a username that is no operator's without
// keeping it: its key is a keyed hash (HMAC under a key derived from the
// master key), so that repeated tries of one name are counted together but
// cannot be read back nor tried against a dictionary without that key. A
// colon is never part of a real username. Without a keyring every unknown
// name shares one key.
func (s *Store) unknownAccount(username string) attemptedAccount {
	key := "unknown"
	if s.keys != nil {
		m := hmac.New(sha256.New, s.unknownNameKey())
		m.Write([]byte(username))
		key = "unknown:" + hex.EncodeToString(m.Sum(nil)[:16])
	}
	return attemptedAccount{key: key, actor: Actor{Type: ActorAnonymous, ID: key, Name: UnknownAccount}}
}

// recentFailures are the failures within loginWindow that concern one
// attempt: of its account, of its account from its address, of its address.
type recentFailures struct {
	Account         int        `db:"account"`
	AccountLast     *time.Time `db:"account_last"`
	AccountIP       int        `db:"account_ip"`
	AccountIPOldest *time.Time `db:"account_ip_oldest"`
	IP              int        `db:"ip"`
	IPOldest        *time.Time `db:"ip_oldest"`
}

// recordAttempt counts the recent failures that concern the attempt and,
// unless a limit refuses it, records it as a failure before the password is
// checked (a success deletes it again) and returns its id. Counting and
// recording happen under a lock per address and one per account, so parallel
// attempts see each other: a burst of guesses, on one name or on many from
// one address, cannot all pass the count before any is written.
func (s *Store) recordAttempt(ctx context.Context, who attemptedAccount, origin Origin) (int64, error) {
	now := s.loginNow().Truncate(time.Microsecond) // as PostgreSQL keeps it
	var id int64
	var throttled *LoginThrottledError
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		// The address first, then the account, always in this order, so that
		// two attempts never wait for each other crosswise.
		if origin.ClientIP != "" {
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('console.login-address:' || $1, 0))`, origin.ClientIP); err != nil {
				return fmt.Errorf("store: authenticate: lock address: %w", err)
			}
		}
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('console.login:' || $1, 0))`, who.key); err != nil {
			return fmt.Errorf("store: authenticate: lock account: %w", err)
		}
		rows, _ := tx.Query(ctx, `
			SELECT count(*) FILTER (WHERE username = $1) AS account,
				max(at) FILTER (WHERE username = $1) AS account_last,
				count(*) FILTER (WHERE username = $1 AND client_ip = $2 AND $2 <> '') AS account_ip,
				min(at) FILTER (WHERE username = $1 AND client_ip = $2 AND $2 <> '') AS account_ip_oldest,
				count(*) FILTER (WHERE client_ip = $2 AND $2 <> '') AS ip,
				min(at) FILTER (WHERE client_ip = $2 AND $2 <> '') AS ip_oldest
			FROM login_failures
			WHERE at > $3 AND (username = $1 OR (client_ip = $2 AND $2 <> ''))`,
			who.key, origin.ClientIP, now.Add(-loginWindow))
		recent, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[recentFailures])
		if err != nil {
			return fmt.Errorf("store: authenticate: count failures: %w", err)
		}
		if throttled = s.throttle(recent, now); throttled != nil {
			return nil
		}
		err = tx.QueryRow(ctx, `INSERT INTO login_failures (username, client_ip, at) VALUES ($1, $2, $3) RETURNING id`,
			who.key, origin.ClientIP, now).Scan(&id)
		if err != nil {
			return fmt.Errorf("store: record login attempt: %w", err)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	if throttled != nil {
		return 0, s.loginFailed(ctx, who, reasonThrottled, origin, throttled,
			map[string]any{"limit": throttled.Limit, "retry_after_s": retrySeconds(throttled.RetryAfter)})
	}
	return id, nil
}

// throttle says whether an attempt with these recent failures must wait,
// and how long: the longest wait of the limits it is over.
func (s *Store) throttle(f recentFailures, now time.Time) *LoginThrottledError {
	var t *LoginThrottledError
	over := func(until time.Time, limit string) {
		if wait := until.Sub(now); wait > 0 && (t == nil || wait > t.RetryAfter) {
			t = &LoginThrottledError{RetryAfter: wait, Limit: limit}
		}
	}
	if f.AccountIP >= maxFailuresPerAccountIP && f.AccountIPOldest != nil {
		over(f.AccountIPOldest.Add(loginWindow), limitAccountIP)
	}
	if f.IP >= maxFailuresPerIP && f.IPOldest != nil {
		over(f.IPOldest.Add(loginWindow), limitIP)
	}
	if f.Account >= maxFailuresPerAccount && f.AccountLast != nil {
		over(f.AccountLast.Add(s.accountDelay(f.Account)), limitAccount)
	}
	return t
}

// accountDelay is how long after its last failure an account with this many
// recent failures may be tried again: the base delay at the limit, doubling
// with each failure beyond it, at most the cap.
func (s *Store) accountDelay(failures int) time.Duration {
	d := s.loginDelay
	for range failures - maxFailuresPerAccount {
		if d >= s.loginDelayMax/2 {
			return s.loginDelayMax
		}
		d *= 2
	}
	return min(d, s.loginDelayMax)
}

// retrySeconds is a wait in whole seconds, at least 1, as Retry-After wants.
func retrySeconds(d time.Duration) int64 {
	return max(1, int64((d+time.Second-1)/time.Second))
}

// operatorWithHash is the one read that needs the password hash.
type operatorWithHash struct {
	Operator
	PasswordHash string `db:"password_hash"`
}

// loginFailed audits a failed sign-in (its reason added to details, which
// may be nil) and returns result, or the error that prevented auditing. It
// records nothing for throttling: recordAttempt did that for the attempts
// that were let through.
func (s *Store) loginFailed(ctx context.Context, who attemptedAccount, reason string, origin Origin, result error, details map[string]any) error {
	d := map[string]any{"reason": reason}
	maps.Copy(d, details)
	err := s.Audit(ctx, Event{
		Actor: who.actor, Origin: origin, Action: cmp.Or(who.action, "auth.login_failed"), Outcome: OutcomeDenied, Details: d,
	})
	if err != nil {
		return err
	}
	return result
}

// UnlockOperator clears the recorded failed sign-ins of the operator named
// username, from every address, so that its owner may sign in at once; it
// audits operator.unlock with how many it cleared and returns that number.
func (s *Store) UnlockOperator(ctx context.Context, username string, actor Actor, origin Origin) (int64, error) {
	var cleared int64
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var id int64
		err := tx.QueryRow(ctx, `SELECT id FROM operators WHERE username = $1`, username).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrOperatorNotFound
		}
		if err != nil {
			return fmt.Errorf("store: unlock operator: %w", err)
		}
		tag, err := tx.Exec(ctx, `DELETE FROM login_failures WHERE username = $1`, username)
		if err != nil {
			return fmt.Errorf("store: unlock operator: clear failures: %w", err)
		}
		cleared = tag.RowsAffected()
		return s.insertAudit(ctx, tx, Event{
			Actor: actor, Origin: origin, Action: "operator.unlock", Outcome: OutcomeSuccess,
			TargetType: "operator", TargetID: strconv.FormatInt(id, 10),
			Details: map[string]any{"username": username, "cleared": cleared},
		})
	})
	return cleared, err
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
