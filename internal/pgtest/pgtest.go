// Package pgtest gives each test its own freshly migrated PostgreSQL database,
// cloned by pgtestdb from a template that is migrated once per schema version,
// and (New) a runtime role for it, granted as `console db grant` grants.
// It needs a running server: TEST_DATABASE_URL, or the project's private
// cluster that `make test` starts (scripts/devdb.sh). It fails, never skips,
// when there is none.
package pgtest

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"sort"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"github.com/peterldowns/pgtestdb"
	"github.com/pressly/goose/v3"

	"github.com/zegocloud-console/console/migrations"
)

// DefaultURL is the private cluster that scripts/devdb.sh starts.
const DefaultURL = "postgres://postgres@127.0.0.1:5499/postgres?sslmode=disable"

// ServerURL is the superuser connection string of the test server.
func ServerURL() string {
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		return u
	}
	return DefaultURL
}

// DB is a fresh database (migrated, unless from NewEmpty) and the roles that use it.
type DB struct {
	// OwnerURL connects as the role that owns the schema (it ran the
	// migrations): for what only the owner may do, such as migrate, prune,
	// or set up a test's data in ways the runtime role may not.
	OwnerURL string
	// RuntimeURL connects as a role of this database alone, granted exactly
	// what `console db grant` grants: what `console serve` connects as.
	RuntimeURL string
	// SuperuserURL connects to this database as the server's superuser:
	// what an attacker with full database access could do.
	SuperuserURL string
	// OwnerRole and RuntimeRole are the names of the two roles.
	OwnerRole, RuntimeRole string
}

// runtimePassword is the password of every runtime role pgtest creates,
// for servers that do not trust local connections.
const runtimePassword = "pgtest-runtime"

// New creates a fresh migrated database for t with a runtime role of its
// own. Roles are cluster-wide while each test has its own database, so the
// role is named after the database: tests in parallel never share one. The
// role and the database go when t ends.
func New(t testing.TB) DB {
	t.Helper()
	return newDB(t, migrator{}, true)
}

// NewEmpty is New without migrations: an empty database owned by the same
// owner role, and a runtime role that has been granted nothing, since there
// is nothing yet to grant. It is what `console migrate` starts from.
func NewEmpty(t testing.TB) DB {
	t.Helper()
	return newDB(t, pgtestdb.NoopMigrator{}, false)
}

// newDB makes the database with m, then the runtime role, granted what
// `console db grant` grants when grant is set.
func newDB(t testing.TB, m pgtestdb.Migrator, grant bool) DB {
	t.Helper()
	conf := newDatabase(t, m)
	u, err := url.Parse(ServerURL())
	if err != nil {
		t.Fatalf("pgtest: TEST_DATABASE_URL: %v", err)
	}
	u.Path = "/" + conf.Database
	sum := sha256.Sum256([]byte(conf.Database))
	role := "pgtdbrt_" + hex.EncodeToString(sum[:8])
	db := DB{OwnerURL: conf.URL(), SuperuserURL: u.String(), OwnerRole: conf.User, RuntimeRole: role}
	ctx := context.Background()
	su, err := pgx.Connect(ctx, db.SuperuserURL)
	if err != nil {
		t.Fatalf("pgtest: connect as superuser: %v", err)
	}
	defer su.Close(ctx)
	_, err = su.Exec(ctx, fmt.Sprintf(`CREATE ROLE %s LOGIN PASSWORD '%s'`, pgx.Identifier{role}.Sanitize(), runtimePassword))
	var pgErr *pgconn.PgError
	if err != nil && !(errors.As(err, &pgErr) && pgErr.Code == "42710") { // duplicate_object: left by a killed run
		t.Fatalf("pgtest: create runtime role: %v", err)
	}
	t.Cleanup(func() { dropRole(t, db.SuperuserURL, role) })
	if grant {
		owner, err := pgx.Connect(ctx, db.OwnerURL)
		if err != nil {
			t.Fatalf("pgtest: connect as owner: %v", err)
		}
		defer owner.Close(ctx)
		if _, err := owner.Exec(ctx, `SELECT grant_runtime_role($1)`, role); err != nil {
			t.Fatalf("pgtest: grant runtime role: %v", err)
		}
	}
	rt := *conf
	rt.User, rt.Password = role, runtimePassword
	db.RuntimeURL = rt.URL()
	return db
}

// dropRole removes role and its privileges in the database at superuserURL,
// before pgtestdb drops that database (cleanups run last first).
func dropRole(t testing.TB, superuserURL, role string) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, superuserURL)
	if err != nil {
		t.Errorf("pgtest: drop runtime role %s: %v", role, err)
		return
	}
	defer conn.Close(ctx)
	id := pgx.Identifier{role}.Sanitize()
	if _, err := conn.Exec(ctx, `DROP OWNED BY `+id+`; DROP ROLE `+id); err != nil {
		t.Errorf("pgtest: drop runtime role %s: %v", role, err)
	}
}

// NewURL creates a fresh migrated database for t and returns the URL of the
// role that owns its schema; the database is dropped when t ends. New also
// gives a runtime role.
func NewURL(t testing.TB) string {
	t.Helper()
	return newDatabase(t, migrator{}).URL()
}

// newDatabase creates a fresh database for t, cloned from a template that m
// prepared, and dropped when t ends.
func newDatabase(t testing.TB, m pgtestdb.Migrator) *pgtestdb.Config {
	t.Helper()
	u, err := url.Parse(ServerURL())
	if err != nil {
		t.Fatalf("pgtest: TEST_DATABASE_URL: %v", err)
	}
	pw, _ := u.User.Password()
	conf := pgtestdb.Config{
		DriverName:                "pgx",
		Host:                      u.Hostname(),
		Port:                      u.Port(),
		User:                      u.User.Username(),
		Password:                  pw,
		Database:                  trimSlash(u.Path),
		Options:                   u.RawQuery,
		ForceTerminateConnections: true,
	}
	return pgtestdb.Custom(t, conf, m)
}

func trimSlash(p string) string {
	if len(p) > 0 && p[0] == '/' {
		return p[1:]
	}
	return p
}

// migrator applies the embedded goose migrations to pgtestdb's template.
type migrator struct{}

// Hash identifies the schema by the content of every migration file.
func (migrator) Hash() (string, error) {
	names, err := fs.Glob(migrations.FS, "*.sql")
	if err != nil {
		return "", err
	}
	sort.Strings(names)
	h := sha256.New()
	for _, n := range names {
		b, err := fs.ReadFile(migrations.FS, n)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", n, len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

// Migrate runs goose on the template database.
func (migrator) Migrate(ctx context.Context, db *sql.DB, _ pgtestdb.Config) error {
	p, err := goose.NewProvider(goose.DialectPostgres, db, migrations.FS)
	if err != nil {
		return err
	}
	_, err = p.Up(ctx)
	return err
}

// AwaitLockWaiter returns once a session of d's database waits for a lock:
// what a test that interleaves transactions waits for before it lets the
// lock go. It fails the test if finished is closed first (the work it meant
// to hold up did not wait) or after ten seconds.
func (d DB) AwaitLockWaiter(t testing.TB, finished <-chan struct{}) {
	t.Helper()
	ctx := t.Context()
	conn, err := pgx.Connect(ctx, d.OwnerURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	deadline := time.Now().Add(10 * time.Second)
	for {
		var waiting bool
		if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
			WHERE NOT l.granted AND a.datname = current_database())`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting {
			return
		}
		select {
		case <-finished:
			t.Fatal("the work finished without waiting for a lock")
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("no session waits for a lock after 10 s")
		}
	}
}
