package store_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/zegocloud-console/console/internal/pgtest"
	"github.com/zegocloud-console/console/internal/store"
)

// testSecret is a ServerSecret used by the tests of this package.
const testSecret = "0123456789abcdef0123456789abcdef"

var (
	testActor  = store.Actor{Type: store.ActorOperator, ID: "1", Name: "alice"}
	testOrigin = store.Origin{RequestID: "req-1", ClientIP: "192.0.2.1", UserAgent: "test"}
)

type bundle struct {
	ctx  context.Context
	st   *store.Store // as the runtime role, as console serve runs
	db   pgtest.DB
	keys *store.Keyring
}

// setup gives a test its own migrated database and a store on it as the
// runtime role.
func setup(t *testing.T) bundle {
	t.Helper()
	ctx := t.Context()
	db := pgtest.New(t)
	keys, err := store.NewKeyring(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, db.RuntimeURL, keys)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	return bundle{ctx: ctx, st: st, db: db, keys: keys}
}

// createProject makes a project with a 1h default and 24h maximum TTL.
func (b bundle) createProject(t *testing.T, appID uint32) store.Project {
	t.Helper()
	p, err := b.st.CreateProject(b.ctx, store.ProjectInput{Name: "Demo", AppID: appID, Environment: "test",
		DefaultTTL: 3600e9, MaxTTL: 86400e9, PublishAllowed: true}, []byte(testSecret), testActor, testOrigin)
	if err != nil {
		t.Fatalf("create project: %v", err)
	}
	return p
}

// failAuditInserts makes every audit insert of action fail ("audit insert
// failed"), as a full disk or a bug would. A trigger: the owner adds it.
func (b bundle) failAuditInserts(t *testing.T, action string) {
	t.Helper()
	conn, err := pgx.Connect(b.ctx, b.db.OwnerURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(b.ctx)
	for _, q := range []string{
		`CREATE FUNCTION fail_audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'audit insert failed'; END $$`,
		fmt.Sprintf(`CREATE TRIGGER fail_audit BEFORE INSERT ON audit_events FOR EACH ROW WHEN (NEW.action = '%s')
			EXECUTE FUNCTION fail_audit()`, action),
	} {
		if _, err := conn.Exec(b.ctx, q); err != nil {
			t.Fatal(err)
		}
	}
}

// count runs a counting query.
func (b bundle) count(t *testing.T, q string, args ...any) int {
	t.Helper()
	var n int
	if err := b.st.Pool().QueryRow(b.ctx, q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}
