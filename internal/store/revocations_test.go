package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/zegocloud-console/console/internal/token04"
)

// revokeFeedTokens issues n tokens of appID for user and returns them.
func revokeFeedTokens(t *testing.T, b bundle, appID uint32, user string, n int) []IssuedToken {
	t.Helper()
	var out []IssuedToken
	for range n {
		out = append(out, issue(t, b, IssueRequest{AppID: appID, UserID: user, RoomID: "room-1"}))
	}
	return out
}

func TestRevocationFeed_ARevocationThatCommitsLateIsNotSkipped(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.createProject(t, 42)
	toks := revokeFeedTokens(t, b, 42, "alice", 2)
	early, late := toks[0], toks[1]

	// The late revocation starts first and holds its transaction open, as a
	// slow request would; the early one starts after it and commits first.
	tx, err := b.st.pool.Begin(b.ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(context.WithoutCancel(b.ctx)) //nolint:errcheck
	if _, err := tx.Exec(b.ctx, `UPDATE issued_tokens SET revoked_at = now(), revoked_by = 'slow' WHERE id = $1`, late.Record.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := b.st.RevokeToken(b.ctx, 42, early.Record.ID, "", testActor, testOrigin); err != nil {
		t.Fatal(err)
	}
	first, err := b.st.RevocationsAfter(b.ctx, []int64{42}, 0, 100)
	if err != nil || len(first.Revocations) != 1 || first.Revocations[0].TokenID != early.Record.ID {
		t.Fatalf("first read: got %+v, %v; want the early revocation alone", first, err)
	}
	if err := tx.Commit(b.ctx); err != nil {
		t.Fatal(err)
	}
	second, err := b.st.RevocationsAfter(b.ctx, []int64{42}, first.Cursor, 100)
	if err != nil || len(second.Revocations) != 1 || second.Revocations[0].TokenID != late.Record.ID {
		t.Fatalf("reading on from cursor %d: got %+v, %v; want the late revocation", first.Cursor, second, err)
	}
	if got, want := second.Revocations[0].Seq, first.Revocations[0].Seq+1; got != want {
		t.Errorf("the late revocation: got seq %d, want %d (numbered when it committed)", got, want)
	}
}

func TestRevocationFeed_ReadsOnlyTheProjectsAskedForAndAdvancesPastOthers(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.createProject(t, 42)
	b.createProject(t, 43)
	mine := revokeFeedTokens(t, b, 42, "alice", 1)[0]
	theirs := revokeFeedTokens(t, b, 43, "bob", 1)[0]
	for _, it := range []IssuedToken{mine, theirs} {
		if _, err := b.st.RevokeToken(b.ctx, uint32(it.Record.AppID), it.Record.ID, "", testActor, testOrigin); err != nil {
			t.Fatal(err)
		}
	}
	page, err := b.st.RevocationsAfter(b.ctx, []int64{42}, 0, 100)
	if err != nil || len(page.Revocations) != 1 || page.Cursor != 2 {
		t.Fatalf("got %+v, %v; want project 42's revocation and the cursor past project 43's", page, err)
	}
	r := page.Revocations[0]
	fp := token04.FingerprintSum(mine.Token)
	if r.TokenID != mine.Record.ID || string(r.Fingerprint) != string(fp[:]) || r.UserID != "alice" || r.RoomID != "room-1" ||
		!r.Expire.Equal(mine.Record.Expire) || r.RevokedAt.IsZero() {
		t.Errorf("got entry %+v, want the token's id, fingerprint, user, room, expiry and revocation time", r)
	}
	full, err := b.st.RevocationsAfter(b.ctx, []int64{42, 43}, 0, 1)
	if err != nil || len(full.Revocations) != 1 || full.Cursor != 1 {
		t.Fatalf("a full page: got %+v, %v; want one entry and the cursor at its seq", full, err)
	}
}

func TestRevocationFeed_PruningExpiredEntriesMakesOlderCursorsGoneAndTheSnapshotCurrent(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.createProject(t, 42)
	past := time.Now().Add(-2 * time.Hour)
	expired := issue(t, b, IssueRequest{AppID: 42, UserID: "old", RoomID: "r", TTL: time.Hour, Now: past})
	live := revokeFeedTokens(t, b, 42, "new", 1)[0]
	for _, it := range []IssuedToken{expired, live} {
		if _, err := b.st.RevokeToken(b.ctx, 42, it.Record.ID, "", testActor, testOrigin); err != nil {
			t.Fatal(err)
		}
	}
	snap, err := b.st.RevocationSnapshotOf(b.ctx, []int64{42})
	if err != nil || snap.Seq != 2 || len(snap.Revocations) != 1 || snap.Revocations[0].TokenID != live.Record.ID {
		t.Fatalf("snapshot: got %+v, %v; want seq 2 and the unexpired token only", snap, err)
	}
	n, err := b.st.PruneRevocations(b.ctx, time.Now())
	if err != nil || n != 1 {
		t.Fatalf("prune: got %d, %v; want the expired token's entry", n, err)
	}
	if _, err := b.st.RevocationsAfter(b.ctx, []int64{42}, 0, 100); !errors.Is(err, ErrFeedCursorGone) {
		t.Fatalf("a cursor before the pruned entry: got %v, want ErrFeedCursorGone", err)
	}
	if page, err := b.st.RevocationsAfter(b.ctx, []int64{42}, 1, 100); err != nil || len(page.Revocations) != 1 {
		t.Fatalf("a cursor at the pruned entry: got %+v, %v; want the entry after it", page, err)
	}
	if _, err := b.st.RevocationsAfter(b.ctx, []int64{42}, 3, 100); !errors.Is(err, ErrFeedCursorGone) {
		t.Fatalf("a cursor the feed never gave: got %v, want ErrFeedCursorGone", err)
	}
	if n, err := b.st.PruneRevocations(b.ctx, time.Now()); err != nil || n != 0 {
		t.Fatalf("prune again: got %d, %v; want nothing", n, err)
	}
}

func TestRevocationFeed_WaitersWakeWhenAnotherInstanceRevokes(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.createProject(t, 42)
	it := revokeFeedTokens(t, b, 42, "alice", 1)[0]
	woke := make(chan error, 1)
	go func() { woke <- b.st.WaitRevocations(b.ctx, 0) }()
	other := b.open(t)
	if _, err := other.RevokeToken(b.ctx, 42, it.Record.ID, "", testActor, testOrigin); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-woke:
		if err != nil {
			t.Fatalf("got %v, want the waiter woken", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the waiter was not woken by a revocation in another instance")
	}
	ctx, cancel := context.WithCancel(b.ctx)
	cancel()
	if err := b.st.WaitRevocations(ctx, 1); !errors.Is(err, context.Canceled) {
		t.Fatalf("waiting past the head with a cancelled context: got %v, want context.Canceled", err)
	}
}

func TestMigration00008_TokensRevokedBeforeTheFeedExistedEnterIt(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s, p := unmigrated(t)
	if _, err := p.UpTo(ctx, 3); err != nil {
		t.Fatal(err)
	}
	if _, err := s.pool.Exec(ctx, `
		INSERT INTO projects (id, app_id, name, default_ttl_seconds, max_ttl_seconds) OVERRIDING SYSTEM VALUE VALUES (1, 42, 'p', 60, 60);
		INSERT INTO issued_tokens (id, project_id, app_id, secret_version, user_id, room_id, ctime, expire, nonce, fingerprint,
			mode, channel, issued_by_type, issued_by_id, issued_by_name, revoked_at, revoked_by)
		SELECT gen_random_uuid(), 1, 42, 1, 'u' || i, 'r', now(), now() + interval '1 hour', i, sha256(i::text::bytea),
			'gcm', 'api', 'cli', '', 'cli', CASE WHEN i < 3 THEN now() - (i || ' minutes')::interval END, CASE WHEN i < 3 THEN 'cli' END
		FROM generate_series(1, 3) AS i`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	snap, err := s.RevocationSnapshotOf(ctx, []int64{42})
	if err != nil || snap.Seq != 2 || len(snap.Revocations) != 2 || snap.Revocations[0].UserID != "u2" || snap.Revocations[1].UserID != "u1" {
		t.Fatalf("got %+v, %v; want the two earlier revocations, oldest first, and seq 2", snap, err)
	}
}
