package store

import "time"

// Observer is told what the store has done, for metrics: the store calls it
// where the action commits, so that every channel counts alike. Any of its
// functions may be nil.
type Observer struct {
	// AuditWrite is told how long each audit insert took.
	AuditWrite func(time.Duration)
	// TokensIssued is told of n tokens issued for appID through channel, once their records have committed.
	TokensIssued func(appID int64, channel string, n int)
	// TokensRevoked is told of n tokens of appID revoked, once the revocation has committed; tokens found
	// revoked already do not count.
	TokensRevoked func(appID int64, n int64)
}

// Observe makes o the store's observer, in place of any before it. Call it
// before the store serves requests.
func (s *Store) Observe(o Observer) { s.observer = o }

func (s *Store) observeAuditWrite(start time.Time) {
	if f := s.observer.AuditWrite; f != nil {
		f(time.Since(start))
	}
}

func (s *Store) observeTokensIssued(appID int64, channel string, n int) {
	if f := s.observer.TokensIssued; f != nil {
		f(appID, channel, n)
	}
}

func (s *Store) observeTokensRevoked(appID int64, n int64) {
	if f := s.observer.TokensRevoked; f != nil {
		f(appID, n)
	}
}
