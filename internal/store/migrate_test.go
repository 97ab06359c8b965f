package store

import (
	"testing"

	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/zegocloud-console/console/internal/pgtest"
)

// emptyDatabase is a store as the owner of an unmigrated database, and a
// migrator on it.
func emptyDatabase(t *testing.T) (*Store, *goose.Provider) {
	t.Helper()
	s, err := Open(t.Context(), pgtest.NewEmpty(t).OwnerURL, testKeyring(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	db := stdlib.OpenDBFromPool(s.pool)
	t.Cleanup(func() { db.Close() })
	p, err := newMigrator(db)
	if err != nil {
		t.Fatal(err)
	}
	return s, p
}

func TestMigrations_GoAllTheWayDownAndUpAgain(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s, p := emptyDatabase(t)
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatalf("up: %v", err)
	}
	if _, err := p.DownTo(ctx, 0); err != nil {
		t.Fatalf("down to nothing: %v", err)
	}
	if res, err := p.Up(ctx); err != nil || len(res) != len(p.ListSources()) {
		t.Fatalf("up again: got %d migrations, %v; want all %d", len(res), err, len(p.ListSources()))
	}
}
