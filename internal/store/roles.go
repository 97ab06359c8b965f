package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// ErrPermissionDenied means the database refused the connected role a
// privilege (SQLSTATE 42501): a runtime role that was never granted, or a
// command that needs the schema owner.
var ErrPermissionDenied = errors.New("permission denied")

// ErrRoleMissing means GrantRuntimeRole found no such role and may not create one.
var ErrRoleMissing = errors.New("role does not exist")

// DatabaseRole says who the store is connected as and what that role may do
// to the schema. A runtime role is none of Superuser, OwnsSchema, MayCreate.
type DatabaseRole struct {
	Name       string
	Superuser  bool
	OwnsSchema bool // member of the role that owns the console's tables; before the first migration, MayCreate
	MayCreate  bool // may create objects in the schema or the database (DDL)
}

// Privileged tells whether the role may change the schema or its rules.
func (r DatabaseRole) Privileged() bool { return r.Superuser || r.OwnsSchema || r.MayCreate }

// CurrentRole tells who the store is connected as. On a database not yet
// migrated no table has an owner: the role that may create tables is then
// the one that would own them.
func (s *Store) CurrentRole(ctx context.Context) (DatabaseRole, error) {
	var r DatabaseRole
	err := s.pool.QueryRow(ctx, `SELECT name, super, CASE WHEN owner IS NULL THEN may_create ELSE pg_has_role(owner, 'MEMBER') END, may_create
		FROM (SELECT current_user AS name, r.rolsuper AS super, c.relowner AS owner,
				COALESCE(has_schema_privilege(current_schema(), 'CREATE'), false)
					OR has_database_privilege(current_database(), 'CREATE') AS may_create
			FROM pg_roles r LEFT JOIN pg_class c ON c.oid = to_regclass('audit_events')
			WHERE r.rolname = current_user) AS me`).Scan(&r.Name, &r.Superuser, &r.OwnsSchema, &r.MayCreate)
	if err != nil {
		return DatabaseRole{}, fmt.Errorf("store: current role: %w", err)
	}
	return r, nil
}

// GrantRuntimeRole gives role exactly the privileges `console serve` needs
// (runtime_privileges, through grant_runtime_role in migrations/00003),
// revoking any others on the console's objects; run it as the schema owner
// after migrating. It creates role (LOGIN, no password) when it does not
// exist and the connected role may create roles, and tells whether it did.
// Running it again changes nothing; later migrations grant the roles again.
func (s *Store) GrantRuntimeRole(ctx context.Context, role string) (created bool, err error) {
	if role == "" {
		return false, errors.New("store: grant runtime role: no role name")
	}
	var exists, migrated bool
	if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1),
		to_regprocedure('grant_runtime_role(text)') IS NOT NULL`, role).Scan(&exists, &migrated); err != nil {
		return false, fmt.Errorf("store: grant runtime role: %w", err)
	}
	if !migrated {
		return false, errors.New("store: grant runtime role: the schema is not migrated (no grant_runtime_role function): migrate first")
	}
	if !exists {
		_, err := s.pool.Exec(ctx, `CREATE ROLE `+pgx.Identifier{role}.Sanitize()+` LOGIN`)
		var pgErr *pgconn.PgError
		switch {
		case errors.As(err, &pgErr) && pgErr.Code == "42710": // duplicate_object: created meanwhile
		case errors.As(err, &pgErr) && pgErr.Code == "42501":
			return false, fmt.Errorf("store: grant runtime role: %w: %q, and this role may not create roles", ErrRoleMissing, role)
		case err != nil:
			return false, fmt.Errorf("store: grant runtime role: create role: %w", err)
		default:
			created = true
		}
	}
	if _, err := s.pool.Exec(ctx, `SELECT grant_runtime_role($1)`, role); err != nil {
		return created, fmt.Errorf("store: grant runtime role %s: %w", role, permissionDenied(err))
	}
	return created, nil
}

// permissionDenied marks PostgreSQL's insufficient_privilege with
// ErrPermissionDenied, keeping the database's own message.
func permissionDenied(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42501" {
		return fmt.Errorf("%w: %w", ErrPermissionDenied, err)
	}
	return err
}
