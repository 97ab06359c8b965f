package store

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"

	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/zegocloud-console/console/migrations"
)

// newMigrator builds a goose provider over the embedded migrations. The
// session locker lets several console instances start at once: one migrates,
// the others wait and then find nothing to do.
func newMigrator(db *sql.DB) (*goose.Provider, error) {
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return nil, fmt.Errorf("store: migration lock: %w", err)
	}
	sub, err := fs.Sub(migrations.FS, ".")
	if err != nil {
		return nil, err
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, sub, goose.WithSessionLocker(locker))
	if err != nil {
		return nil, fmt.Errorf("store: migrations: %w", err)
	}
	return p, nil
}

// Migrate applies every pending migration and reports how many ran.
func (s *Store) Migrate(ctx context.Context) (int, error) {
	db := stdlib.OpenDBFromPool(s.pool)
	defer db.Close()
	p, err := newMigrator(db)
	if err != nil {
		return 0, err
	}
	res, err := p.Up(ctx)
	if err != nil {
		return 0, fmt.Errorf("store: migrate: %w", err)
	}
	s.migrated.Store(true)
	return len(res), nil
}

// MigrationsPending tells whether the schema is behind the binary (or was
// never migrated); /readyz uses it so that an instance is not sent traffic
// before migrations ran, and a runtime role's start-up to refuse to serve.
// Schemas only move forward, so once current it is not asked again: readiness
// probes come every few seconds. A role that may not read the migration
// history gets ErrPermissionDenied.
func (s *Store) MigrationsPending(ctx context.Context) (bool, error) {
	if s.migrated.Load() {
		return false, nil
	}
	var never bool
	if err := s.pool.QueryRow(ctx, `SELECT to_regclass('goose_db_version') IS NULL`).Scan(&never); err != nil {
		return false, fmt.Errorf("store: migration status: %w", err)
	}
	if never {
		return true, nil
	}
	db := stdlib.OpenDBFromPool(s.pool)
	defer db.Close()
	p, err := newMigrator(db)
	if err != nil {
		return false, err
	}
	pending, err := p.HasPending(ctx)
	if err != nil {
		return false, fmt.Errorf("store: migration status: %w", permissionDenied(err))
	}
	s.migrated.Store(!pending)
	return pending, nil
}
