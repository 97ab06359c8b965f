package store

import (
	"testing"

	"github.com/jackc/pgx/v5/stdlib"

	"github.com/zegocloud-console/console/internal/pgtest"
)

func TestMigrations_GoAllTheWayDownAndUpAgain(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s, err := Open(ctx, pgtest.NewEmpty(t).OwnerURL, testKeyring(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatalf("up: %v", err)
	}
	db := stdlib.OpenDBFromPool(s.pool)
	defer db.Close()
	p, err := newMigrator(db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.DownTo(ctx, 0); err != nil {
		t.Fatalf("down to nothing: %v", err)
	}
	if res, err := p.Up(ctx); err != nil || len(res) != len(p.ListSources()) {
		t.Fatalf("up again: got %d migrations, %v; want all %d", len(res), err, len(p.ListSources()))
	}
}
