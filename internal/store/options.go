package store

import (
	"fmt"
	"time"
)

// Option changes a setting of the Store that New or Open makes.
type Option func(*Store) error

// defaultAuditTextTimeout bounds a page of free-text audit search: a text
// made of very common trigrams ("10.1.2.") can make the trigram index
// useless, and a page must not take seconds.
const defaultAuditTextTimeout = 3 * time.Second

// WithPasswordParams sets the argon2id cost of the password hashes the store
// makes (tests use cheap ones). Parameters CheckPassword would refuse to
// verify are an error.
func WithPasswordParams(p PasswordParams) Option {
	return func(s *Store) error {
		if !p.verifiable() {
			return fmt.Errorf("store: password parameters %+v: CheckPassword could not verify their hashes", p)
		}
		s.passwordParams = p
		return nil
	}
}

// WithAuditTextTimeout sets how long a page of free-text audit search may
// take (3 s by default) before it is refused as too broad; at least 1 ms.
func WithAuditTextTimeout(d time.Duration) Option {
	return func(s *Store) error {
		if d < time.Millisecond {
			return fmt.Errorf("store: audit text timeout %v: want at least 1ms", d)
		}
		s.auditTextTimeout = d
		return nil
	}
}

// WithLoginClock makes sign-in throttling read the time from now instead of
// the system clock: tests move it forward instead of sleeping.
func WithLoginClock(now func() time.Time) Option {
	return func(s *Store) error {
		if now == nil {
			return fmt.Errorf("store: login clock: want a function, got nil")
		}
		s.loginNow = now
		return nil
	}
}

// WithLoginDelay sets how long an account that failed too many sign-ins (from
// any address) must rest after its last failure before the next attempt: base
// at first, doubling with each further failure, at most maxDelay (1 s and
// 5 min by default).
func WithLoginDelay(base, maxDelay time.Duration) Option {
	return func(s *Store) error {
		if base <= 0 || maxDelay < base {
			return fmt.Errorf("store: login delay %v up to %v: want 0 < base <= max", base, maxDelay)
		}
		s.loginDelay, s.loginDelayMax = base, maxDelay
		return nil
	}
}
