package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/zegocloud-console/console/internal/pgtest"
)

// testSecret is a ServerSecret used by the tests of this package.
const testSecret = "0123456789abcdef0123456789abcdef"

var (
	testActor  = Actor{Type: ActorOperator, ID: "1", Name: "alice"}
	testOrigin = Origin{RequestID: "req-1", ClientIP: "192.0.2.1", UserAgent: "test"}
)

// testPasswordParams hash cheaply; the production ones are checked in
// TestHashPassword_DefaultParamsFollowOWASP.
var testPasswordParams = PasswordParams{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// bundle is what a store test needs: a store on a database of its own, and
// for the tests of people and keys an admin to act as (see withAdmin).
type bundle struct {
	ctx   context.Context
	st    *Store // as the runtime role, as console serve runs
	owner *Store // as the schema owner, as console migrate and audit prune run
	db    pgtest.DB
	keys  *Keyring
	opts  []Option
	admin Operator
	actor Actor
}

// setup gives a test its own migrated database and a store on it, with
// cheap password hashing and then opts.
func setup(t *testing.T, opts ...Option) bundle {
	t.Helper()
	keys := testKeyring(t)
	b := bundle{ctx: t.Context(), db: pgtest.New(t), keys: keys,
		opts: append([]Option{WithPasswordParams(testPasswordParams)}, opts...)}
	b.st, b.owner = b.open(t), b.openAs(t, b.db.OwnerURL)
	return b
}

// open opens another store on the bundle's database as the runtime role, as
// another console instance would, with the bundle's options.
func (b bundle) open(t *testing.T) *Store {
	t.Helper()
	return b.openAs(t, b.db.RuntimeURL)
}

// openAs opens a store on the bundle's database at url (the owner's, say).
func (b bundle) openAs(t *testing.T, url string) *Store {
	t.Helper()
	st, err := Open(b.ctx, url, b.keys, b.opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	return st
}

// withAdmin adds an admin, "root", and makes it the bundle's actor.
func (b bundle) withAdmin(t *testing.T) bundle {
	t.Helper()
	b.admin = b.createOperator(t, "root", RoleAdmin, "root password 1")
	b.actor = operatorActor(b.admin)
	return b
}

// createProject makes a project with a 1h default and 24h maximum TTL.
func (b bundle) createProject(t *testing.T, appID uint32) Project {
	t.Helper()
	p, err := b.st.CreateProject(b.ctx, ProjectInput{Name: "Demo", AppID: appID, Environment: "test",
		DefaultTTL: 3600e9, MaxTTL: 86400e9, PublishAllowed: true}, []byte(testSecret), testActor, testOrigin)
	if err != nil {
		t.Fatalf("create project: %v", err)
	}
	return p
}

// insertProject inserts a live project without a secret straight into the
// table, unaudited, and returns its id.
func (b bundle) insertProject(t *testing.T, appID uint32) int64 {
	t.Helper()
	var id int64
	err := b.st.pool.QueryRow(b.ctx, `INSERT INTO projects (app_id, name, default_ttl_seconds, max_ttl_seconds)
		VALUES ($1, 'people test', 3600, 86400) RETURNING id`, int64(appID)).Scan(&id)
	if err != nil {
		t.Fatalf("insert project %d: %v", appID, err)
	}
	return id
}

// createOperator creates an operator or stops the test.
func (b bundle) createOperator(t *testing.T, username, role, password string) Operator {
	t.Helper()
	op, err := b.st.CreateOperator(b.ctx, OperatorInput{Username: username, DisplayName: strings.ToUpper(username),
		Role: role, Password: password}, peopleSystem, peopleOrigin)
	if err != nil {
		t.Fatalf("create operator %s: %v", username, err)
	}
	return op
}

// queryInt runs a query returning one integer, such as a count.
func (b bundle) queryInt(t *testing.T, q string, args ...any) int {
	t.Helper()
	var n int
	if err := b.st.pool.QueryRow(b.ctx, q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// wantField stops the test unless err is a ValidationError on field.
func wantField(t *testing.T, err error, field string) {
	t.Helper()
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("got error %v, want a ValidationError on %q", err, field)
	}
	if _, ok := ve.Fields[field]; !ok {
		t.Fatalf("got field errors %v, want one on %q", ve.Fields, field)
	}
}

// failAuditInserts makes every audit insert of action fail ("audit insert
// failed"), as a full disk or a bug would. A trigger: the owner adds it.
func (b bundle) failAuditInserts(t *testing.T, action string) {
	t.Helper()
	for _, q := range []string{
		`CREATE FUNCTION fail_audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'audit insert failed'; END $$`,
		fmt.Sprintf(`CREATE TRIGGER fail_audit BEFORE INSERT ON audit_events FOR EACH ROW WHEN (NEW.action = '%s')
			EXECUTE FUNCTION fail_audit()`, action),
	} {
		if _, err := b.owner.Pool().Exec(b.ctx, q); err != nil {
			t.Fatal(err)
		}
	}
}

// testKeyring is the master keyring of the tests' stores.
func testKeyring(t *testing.T) *Keyring {
	t.Helper()
	keys, err := NewKeyring(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return keys
}
