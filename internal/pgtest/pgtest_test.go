package pgtest_test

import (
	"context"
	"net/url"
	"slices"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/zegocloud-console/console/internal/pgtest"
)

// queryBool connects to u and runs a query returning one boolean.
func queryBool(t *testing.T, u, q string, args ...any) bool {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(ctx)
	var b bool
	if err := conn.QueryRow(ctx, q, args...).Scan(&b); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return b
}

func userOf(t *testing.T, u string) string {
	t.Helper()
	p, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	return p.User.Username()
}

func TestNew_GivesEachParallelTestARuntimeRoleOfItsOwnAndDropsIt(t *testing.T) {
	var mu sync.Mutex
	var roles []string
	t.Run("group", func(t *testing.T) {
		for _, name := range []string{"a", "b", "c", "d"} {
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				db := pgtest.New(t)
				role := db.RuntimeRole
				if got := userOf(t, db.RuntimeURL); got != role {
					t.Errorf("RuntimeURL: got role %q, want RuntimeRole %q", got, role)
				}
				mu.Lock()
				roles = append(roles, role)
				mu.Unlock()
				if got := userOf(t, db.OwnerURL); got != db.OwnerRole || got == role {
					t.Fatalf("OwnerURL: got role %q, want OwnerRole %q, not the runtime role", got, db.OwnerRole)
				}
				if !queryBool(t, db.RuntimeURL, `SELECT has_table_privilege('operators', 'INSERT')
						AND NOT has_table_privilege('audit_events', 'UPDATE')
						AND NOT has_schema_privilege(current_schema(), 'CREATE')`) {
					t.Error("runtime role: got other privileges, want INSERT on operators, no UPDATE on audit_events, no CREATE")
				}
				if !queryBool(t, db.SuperuserURL, `SELECT rolsuper FROM pg_roles WHERE rolname = current_user`) {
					t.Error("SuperuserURL: got an ordinary role, want a superuser")
				}
			})
		}
	})
	slices.Sort(roles)
	if len(slices.Compact(slices.Clone(roles))) != 4 {
		t.Fatalf("runtime roles: got %v, want 4 different ones", roles)
	}
	if queryBool(t, pgtest.ServerURL(), `SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = ANY($1))`, roles) {
		t.Errorf("after the tests: some of %v still exist, want them dropped", roles)
	}
}

func TestNewEmpty_IsUnmigratedAndItsRuntimeRoleHoldsNothing(t *testing.T) {
	t.Parallel()
	db := pgtest.NewEmpty(t)
	if queryBool(t, db.OwnerURL, `SELECT to_regclass('goose_db_version') IS NOT NULL OR to_regclass('audit_events') IS NOT NULL`) {
		t.Error("NewEmpty: got migration tables, want an empty database")
	}
	if !queryBool(t, db.OwnerURL, `SELECT has_schema_privilege(current_schema(), 'CREATE')`) {
		t.Error("owner: got no CREATE on the schema, want the role that can migrate")
	}
	if queryBool(t, db.RuntimeURL, `SELECT has_schema_privilege(current_schema(), 'CREATE')`) {
		t.Error("runtime role: got CREATE on the schema, want none")
	}
}

func TestNewURL_IsTheOwnerOfAMigratedDatabase(t *testing.T) {
	t.Parallel()
	u := pgtest.NewURL(t)
	if !queryBool(t, u, `SELECT pg_has_role((SELECT relowner FROM pg_class WHERE oid = 'audit_events'::regclass), 'MEMBER')`) {
		t.Error("NewURL: got a role that does not own audit_events, want the owner")
	}
}
