package store

import (
	"context"
	"crypto/rand"
	"fmt"
	"math/big"
	"time"

	"github.com/zegocloud-console/console/internal/token04"
)

// InsertIssueRowsForBenchmark performs exactly the database work of one
// IssueToken without group commit, each token its own commit, and nothing
// else: the SELECT of the project and its active
// secret, then the one INSERT … CTE of the token record and its token.issue
// audit event, with realistic values (a random 32-byte fingerprint, a random
// UUID, the record and details IssueToken builds, by the same builder). The
// load generator's --ceiling mode runs it to measure what the database alone
// can sustain; calling the same unexported functions as IssueToken keeps the
// rows and the SQL from drifting. No token is made and the secret is not
// decrypted.
func (s *Store) InsertIssueRowsForBenchmark(ctx context.Context, appID uint32, userID string, actor Actor, origin Origin) error {
	projects, err := activeSecrets(ctx, s.pool, []int64{int64(appID)})
	if err != nil {
		return fmt.Errorf("benchmark issue rows: %w", err)
	}
	p, found := projects[appID]
	if !found {
		return fmt.Errorf("benchmark issue rows: project %d: %w", appID, ErrProjectNotFound)
	}
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
	rec, event := tokenIssue{id: formatUUID(uuid), project: p.project, userID: userID, ctime: time.Now().Truncate(time.Second),
		ttl: p.project.DefaultTTL(), nonce: int32(nonce.Int64()), fingerprint: fp, mode: token04.ModeGCM, channel: ChannelAPI,
		actor: actor, origin: origin}.recordAndEvent()
	refused, err := s.insertTokensAndAudit(ctx, s.pool, []TokenRecord{rec}, []Event{event})
	if err == nil {
		err = refused[0]
	}
	if err != nil {
		return fmt.Errorf("benchmark issue rows: %w", err)
	}
	return nil
}
