package store

import (
	"context"
	"crypto/rand"
	"fmt"
	"math/big"
	"time"
)

// InsertIssueRowsForBenchmark performs exactly the database work of one
// IssueToken and nothing else: the SELECT of the project and its active
// secret, then the one INSERT … CTE of the token record and its token.issue
// audit event, with realistic values (a random 32-byte fingerprint, a random
// UUID, the details IssueToken writes). The load generator's --ceiling mode
// runs it to measure what the database alone can sustain; calling the same
// unexported functions as IssueToken keeps the SQL from drifting. No token is
// made and the secret is not decrypted.
func (s *Store) InsertIssueRowsForBenchmark(ctx context.Context, appID uint32, userID string, actor Actor, origin Origin) error {
	p, sec, err := s.activeSecret(ctx, appID)
	if err != nil {
		return fmt.Errorf("benchmark issue rows: %w", err)
	}
	ttl := p.DefaultTTL()
	uuid, err := newUUID()
	if err != nil {
		return fmt.Errorf("benchmark issue rows: %w", err)
	}
	fp := make([]byte, 32)
	if _, err := rand.Read(fp); err != nil {
		return fmt.Errorf("benchmark issue rows: %w", err)
	}
	nonce, err := rand.Int(rand.Reader, big.NewInt(1<<31))
	if err != nil {
		return fmt.Errorf("benchmark issue rows: %w", err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	rec := TokenRecord{
		ID: formatUUID(uuid), ProjectID: p.ID, AppID: int64(appID), SecretVersion: sec.Version,
		UserID: userID, CTime: now, Expire: now.Add(ttl), Nonce: int32(nonce.Int64()),
		Fingerprint: fp, Mode: "gcm", Channel: ChannelAPI,
		IssuedByType: actor.Type, IssuedByID: actor.ID, IssuedByName: actor.Name, ClientIP: origin.ClientIP,
	}
	details := map[string]any{"token_id": rec.ID, "user_id": rec.UserID, "ttl_seconds": int64(ttl / time.Second),
		"expire": rec.Expire.Format(time.RFC3339), "mode": rec.Mode, "channel": rec.Channel, "secret_version": rec.SecretVersion}
	if err := s.insertTokenAndAudit(ctx, rec, Event{Actor: actor, Origin: origin, Action: "token.issue", Outcome: OutcomeSuccess,
		AppID: appID, TargetType: "token", TargetID: rec.ID, Details: details, TokenFingerprint: rec.Fingerprint}); err != nil {
		return fmt.Errorf("benchmark issue rows: %w", err)
	}
	return nil
}
