package store

import (
	"bytes"
	"cmp"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// isInsufficientPrivilege tells whether PostgreSQL refused err's statement
// with SQLSTATE 42501, as it does for a missing privilege and as the audit
// trail's triggers and functions do.
func isInsufficientPrivilege(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "42501"
}

// eventsByID returns every event, oldest id first.
func (b bundle) eventsByID(t *testing.T) []AuditEvent {
	t.Helper()
	events := b.allEvents(t)
	slices.SortFunc(events, func(x, y AuditEvent) int { return cmp.Compare(x.ID, y.ID) })
	return events
}

func TestRuntimeRole_CannotRewriteTheAuditTrailOrItsRules(t *testing.T) {
	t.Parallel()
	b := sealedChain(t)
	b.audit(t, 1) // one pending event too
	before := b.allEvents(t)
	cases := []struct {
		name  string
		setup string // runs first in the same transaction and must succeed
		sql   string
	}{
		{"update a sealed event", "", `UPDATE audit_events SET actor_name = 'mallory' WHERE id = (SELECT event_id FROM audit_chain WHERE chain_seq = 1)`},
		{"update a pending event", "", `UPDATE audit_events SET actor_name = 'mallory' WHERE id IN (SELECT event_id FROM audit_unsealed)`},
		{"seal an event by hand", "", `INSERT INTO audit_chain (chain_seq, event_id, prev_hash, hash)
			SELECT 101, q.event_id, c.hash, c.hash FROM audit_unsealed q, audit_chain c WHERE c.chain_seq = 100`},
		{"take an event off the seal queue", "", `DELETE FROM audit_unsealed`},
		{"queue a sealed event again", "", `INSERT INTO audit_unsealed SELECT event_id FROM audit_chain WHERE chain_seq = 1`},
		{"rewrite a chain position", "", `UPDATE audit_chain SET hash = prev_hash WHERE chain_seq = 1`},
		{"delete chain positions", "", `DELETE FROM audit_chain WHERE chain_seq <= 10`},
		{"truncate the chain", "", `TRUNCATE audit_chain`},
		{"hide an event from free text", "", `DELETE FROM audit_text`},
		{"plant free text", "", `INSERT INTO audit_text (event_id, body) SELECT event_id, 'x' FROM audit_unsealed`},
		{"delete events", "", `DELETE FROM audit_events WHERE id IN (SELECT event_id FROM audit_chain WHERE chain_seq <= 10)`},
		{"truncate events", "", `TRUNCATE audit_events`},
		{"prune switch, then delete", `SET LOCAL console.audit_prune = 'on'`, `DELETE FROM audit_events WHERE id IN (SELECT event_id FROM audit_chain WHERE chain_seq <= 10)`},
		{"prune switch, then delete positions", `SET LOCAL console.audit_prune = 'on'`, `DELETE FROM audit_chain WHERE chain_seq <= 10`},
		{"insert an event and its position", "", `WITH e AS (INSERT INTO audit_events (actor_type, action, outcome)
			VALUES ('system', 'forged.event', 'success') RETURNING id)
			INSERT INTO audit_chain (chain_seq, event_id, prev_hash, hash) SELECT 102, id, '\x00', '\x00' FROM e`},
		{"insert a backdated event", "", `INSERT INTO audit_events (occurred_at, actor_type, action, outcome)
			VALUES (now() - interval '1 year', 'system', 'forged.event', 'success')`},
		{"insert an event in the layout that leaves out its project", "", `INSERT INTO audit_events
			(actor_type, action, outcome, project_id, canonical_version) VALUES ('system', 'forged.event', 'success', 1, 1)`},
		{"update a checkpoint", "", `UPDATE audit_checkpoints SET created_at = now()`},
		{"delete checkpoints", "", `DELETE FROM audit_checkpoints`},
		{"truncate checkpoints", "", `TRUNCATE audit_checkpoints`},
		{"forge a checkpoint", "", `INSERT INTO audit_checkpoints (chain_seq, hash, mac, kind)
			SELECT 100, hash, hash, 'prune' FROM audit_chain WHERE chain_seq = 100`},
		{"move the signed head", "", `UPDATE audit_chain_head SET chain_seq = 50`},
		{"upsert the signed head", "", `INSERT INTO audit_chain_head (chain_seq, hash, mac) VALUES (1, '\x00', '\x00')
			ON CONFLICT (singleton) DO UPDATE SET chain_seq = 1`},
		{"delete the signed head", "", `DELETE FROM audit_chain_head`},
		{"truncate the signed head", "", `TRUNCATE audit_chain_head`},
		{"rewrite a verification", "", `UPDATE audit_verifications SET ok = true`},
		{"delete verifications", "", `DELETE FROM audit_verifications`},
		{"disable the update trigger", "", `ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update`},
		{"disable the seal queue", "", `ALTER TABLE audit_events DISABLE TRIGGER audit_events_queue`},
		{"replace the chain's guard", "", `CREATE OR REPLACE FUNCTION audit_rows_guard() RETURNS trigger
			LANGUAGE plpgsql AS $$ BEGIN RETURN OLD; END; $$`},
		{"disable every trigger", "", `ALTER TABLE audit_events DISABLE TRIGGER ALL`},
		{"drop the delete trigger", "", `DROP TRIGGER audit_events_no_delete ON audit_events`},
		{"replace the guard", "", `CREATE OR REPLACE FUNCTION audit_events_guard() RETURNS trigger
			LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END; $$`},
		{"replace the sealer", "", `CREATE OR REPLACE FUNCTION audit_seal(bigint, bigint[], bytea[], bytea, bytea)
			RETURNS integer LANGUAGE sql AS $$ SELECT 0 $$`},
		{"change the sealer's search_path", "", `ALTER FUNCTION audit_seal(bigint, bigint[], bytea[], bytea, bytea) SET search_path = pg_temp`},
		{"replication role", "", `SET session_replication_role = replica`},
		{"add a column", "", `ALTER TABLE audit_events ADD COLUMN note text`},
		{"drop the table", "", `DROP TABLE audit_events`},
		{"create a table", "", `CREATE TABLE audit_events_copy (id bigint)`},
		{"grant itself more", "", `SELECT grant_runtime_role(current_user)`},
		{"grant every role again", "", `SELECT regrant_runtime_roles()`},
		{"rewrite what it may do", "", `UPDATE runtime_privileges SET privileges = 'ALL'`},
	}
	for _, c := range cases {
		tx, err := b.st.Pool().Begin(b.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if c.setup != "" {
			mustExec(t, b.ctx, tx, c.setup)
		}
		_, err = tx.Exec(b.ctx, c.sql)
		if !isInsufficientPrivilege(err) {
			t.Errorf("%s: got %v, want SQLSTATE 42501 (refused)", c.name, err)
		}
		_ = tx.Rollback(b.ctx)
	}
	// GRANT by a role without grant options only warns: it must give nothing.
	mustExec(t, b.ctx, b.st.Pool(), `GRANT UPDATE, DELETE, TRUNCATE ON audit_events, audit_checkpoints, audit_chain_head,
		audit_chain, audit_unsealed, audit_text TO CURRENT_USER`)
	var escalated bool
	if err := b.st.Pool().QueryRow(b.ctx, `SELECT bool_or(has_table_privilege(t, p)) FROM
		unnest(ARRAY['audit_events', 'audit_checkpoints', 'audit_chain_head', 'audit_verifications',
			'audit_chain', 'audit_unsealed', 'audit_text']) AS t,
		unnest(ARRAY['UPDATE', 'DELETE', 'TRUNCATE']) AS p`).Scan(&escalated); err != nil || escalated {
		t.Errorf("after GRANT to itself: got UPDATE, DELETE or TRUNCATE on an audit table = %v (%v), want none", escalated, err)
	}
	if got := b.allEvents(t); !slices.EqualFunc(got, before, func(x, y AuditEvent) bool {
		return x.ID == y.ID && x.ActorName == y.ActorName && bytes.Equal(x.Hash, y.Hash)
	}) {
		t.Errorf("events changed despite the refusals: got %d events, want the %d there were", len(got), len(before))
	}
	b.sealAll(t)
	if r := b.mustVerifyOK(t); r.Events != 101 || r.Checkpoints != 1 {
		t.Errorf("verify after the refusals: got %d events, %d checkpoints; want 101, 1", r.Events, r.Checkpoints)
	}
}

func TestAuditSeal_RefusesArgumentsThatWouldRewriteTheChain(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.audit(t, 3)
	if n, err := b.st.SealPending(b.ctx, 2); err != nil || n != 2 {
		t.Fatalf("seal two: got %d, %v", n, err)
	}
	events := b.eventsByID(t) // seq 1, seq 2, pending
	sealed1, sealed2, pending := events[0].ID, events[1].ID, events[2].ID
	hash := bytes.Repeat([]byte{0xab}, 32)
	mac := bytes.Repeat([]byte{0xcd}, 32)
	cases := []struct {
		name     string
		afterSeq int64
		ids      []int64
		hashes   [][]byte
		headMAC  []byte
		wantCode string
	}{
		{"reseal a sealed event at the end", 2, []int64{sealed2}, [][]byte{hash}, mac, "42501"},
		{"reseal the first event", 2, []int64{sealed1}, [][]byte{hash}, mac, "42501"},
		{"a sealed event beside a pending one", 2, []int64{pending, sealed1}, [][]byte{hash, hash}, mac, "42501"},
		{"the same event twice", 2, []int64{pending, pending}, [][]byte{hash, hash}, mac, "42501"},
		{"an event that does not exist", 2, []int64{999999}, [][]byte{hash}, mac, "42501"},
		{"rechain from the start", 0, []int64{pending}, [][]byte{hash}, mac, "22023"},
		{"leave a gap", 5, []int64{pending}, [][]byte{hash}, mac, "22023"},
		{"fewer hashes than events", 2, []int64{pending}, nil, mac, "22023"},
		{"a short hash", 2, []int64{pending}, [][]byte{hash[:4]}, mac, "22023"},
		{"no head MAC", 2, []int64{pending}, [][]byte{hash}, nil, "22023"},
		{"nothing to seal", 2, []int64{}, [][]byte{}, mac, "22023"},
	}
	for _, c := range cases {
		_, err := b.st.Pool().Exec(b.ctx, `SELECT audit_seal($1, $2, $3, $4, NULL)`, c.afterSeq, c.ids, c.hashes, c.headMAC)
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != c.wantCode {
			t.Errorf("%s: got %v, want SQLSTATE %s", c.name, err, c.wantCode)
		}
	}
	if got := b.eventsByID(t); got[0].ChainSeq == nil || *got[0].ChainSeq != 1 || !bytes.Equal(got[0].Hash, events[0].Hash) ||
		got[1].ChainSeq == nil || *got[1].ChainSeq != 2 || got[2].ChainSeq != nil {
		t.Fatalf("after the refused calls: got seq %v, %v, %v; want 1 and 2 unchanged and one pending", got[0].ChainSeq, got[1].ChainSeq, got[2].ChainSeq)
	}
	b.sealAll(t)
	if r := b.mustVerifyOK(t); r.Events != 3 {
		t.Errorf("after sealing the rest: got %d events, want 3", r.Events)
	}
}

func TestRuntimeRole_HoldsExactlyThePrivilegesServeNeeds(t *testing.T) {
	t.Parallel()
	b := setup(t)
	role := b.db.RuntimeRole
	want := map[string]string{
		"goose_db_version":        "SELECT",
		"operators":               "INSERT, SELECT, UPDATE",
		"projects":                "INSERT, SELECT, UPDATE",
		"project_secrets":         "DELETE, INSERT, SELECT, UPDATE",
		"issued_tokens":           "INSERT, SELECT, UPDATE",
		"api_keys":                "INSERT, SELECT, UPDATE",
		"api_key_projects":        "DELETE, INSERT, SELECT",
		"web_sessions":            "DELETE, INSERT, SELECT, UPDATE",
		"login_failures":          "DELETE, INSERT, SELECT",
		"settings":                "INSERT, SELECT",
		"audit_events":            "SELECT", // and INSERT on the columns below
		"audit_checkpoints":       "SELECT",
		"audit_chain_head":        "SELECT",
		"audit_chain":             "SELECT",
		"audit_unsealed":          "SELECT",
		"audit_text":              "SELECT",
		"audit_unindexed":         "SELECT",
		"audit_verifications":     "INSERT, SELECT",
		"operator_projects":       "DELETE, INSERT, SELECT",
		"operator_identities":     "INSERT, SELECT, UPDATE",
		"oidc_mapping":            "INSERT, SELECT, UPDATE",
		"oidc_states":             "DELETE, INSERT, SELECT",
		"idempotency_keys":        "DELETE, INSERT, SELECT, UPDATE",
		"audit_sinks":             "DELETE, INSERT, SELECT, UPDATE",
		"revocation_feed":         "SELECT, UPDATE",
		"revocations":             "DELETE, INSERT, SELECT",
		"zego_kicks":              "INSERT, SELECT, UPDATE",
		"zego_api_pace":           "INSERT, SELECT, UPDATE",
		"operator_totp":           "DELETE, INSERT, SELECT, UPDATE",
		"operator_recovery_codes": "DELETE, INSERT, SELECT, UPDATE",
		"operator_passkeys":       "DELETE, INSERT, SELECT, UPDATE",
		"webauthn_ceremonies":     "DELETE, INSERT, SELECT",
	}
	rows, err := b.owner.Pool().Query(b.ctx, `SELECT c.relname::text,
			COALESCE((SELECT string_agg(a.privilege_type, ', ' ORDER BY a.privilege_type)
				FROM aclexplode(c.relacl) a WHERE a.grantee = $1::regrole), '')
		FROM pg_class c WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition`, role)
	if err != nil {
		t.Fatal(err)
	}
	got, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) ([2]string, error) {
		var p [2]string
		err := r.Scan(&p[0], &p[1])
		return p, err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range got {
		if p[1] != want[p[0]] {
			t.Errorf("%s: got %q, want %q", p[0], p[1], want[p[0]])
		}
	}
	if len(got) != len(want)+2 { // + runtime_privileges, runtime_roles: nothing
		t.Errorf("got %d tables, want %d: a table was added without a runtime_privileges row, or one was dropped", len(got), len(want)+2)
	}
	insertable := []string{"actor_type", "actor_id", "actor_name", "action", "outcome", "app_id", "target_type", "target_id",
		"request_id", "client_ip", "user_agent", "details", "token_fingerprint", "project_id"}
	rows, err = b.owner.Pool().Query(b.ctx, `SELECT attname::text FROM pg_attribute
		WHERE attrelid = 'audit_events'::regclass AND attnum > 0 AND NOT attisdropped
			AND has_column_privilege($1, 'audit_events', attname, 'INSERT') ORDER BY attnum`, role)
	if err != nil {
		t.Fatal(err)
	}
	if cols, err := pgx.CollectRows(rows, pgx.RowTo[string]); err != nil || !slices.Equal(cols, insertable) {
		t.Errorf("audit_events columns the runtime role may insert: got %v (%v), want %v", cols, err, insertable)
	}
	var functions []string
	rows, err = b.owner.Pool().Query(b.ctx, `SELECT p.oid::regprocedure::text FROM pg_proc p
		WHERE p.pronamespace = current_schema()::regnamespace AND has_function_privilege($1, p.oid, 'EXECUTE')
			AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
		ORDER BY 1`, role)
	if err == nil {
		functions, err = pgx.CollectRows(rows, pgx.RowTo[string])
	}
	// The trigger functions are executable by everyone, as functions are by
	// default, but only a trigger can call them.
	wantFunctions := []string{"api_keys_notify()", "audit_events_guard()", "audit_events_no_delete()", "audit_events_no_truncate()",
		"audit_events_scope_fixed()", "audit_index_text(integer)", "audit_partitions_ahead(integer)", "audit_resign(bigint[],bytea[],bytea[],bigint,bytea,bytea)", "audit_rows_guard()", "audit_seal(bigint,bigint[],bytea[],bytea,bytea)",
		"revocations_append()"}
	if err != nil || !slices.Equal(functions, wantFunctions) {
		t.Errorf("functions the runtime role may execute: got %v (%v), want %v", functions, err, wantFunctions)
	}
}

func TestGrantRuntimeRole_IsIdempotentAndLaterMigrationsGrantAgain(t *testing.T) {
	t.Parallel()
	b := setup(t)
	role := b.db.RuntimeRole
	for i := range 2 {
		if created, err := b.owner.GrantRuntimeRole(b.ctx, role); err != nil || created {
			t.Fatalf("grant %d to the existing role: got created=%v, %v; want false, nil", i+1, created, err)
		}
	}
	b.audit(t, 2)
	b.sealAll(t)
	b.mustVerifyOK(t)
	// What a later migration that adds a table and drops a privilege does.
	mustExec(t, b.ctx, b.owner.Pool(), `CREATE TABLE later_things (id bigint);
		INSERT INTO runtime_privileges (kind, object, privileges, reason) VALUES ('table', 'later_things', 'SELECT', 'test');
		UPDATE runtime_privileges SET privileges = 'SELECT' WHERE object = 'settings';
		SELECT regrant_runtime_roles();`)
	var readLater, insertSettings bool
	if err := b.st.Pool().QueryRow(b.ctx, `SELECT has_table_privilege('later_things', 'SELECT'),
		has_table_privilege('settings', 'INSERT')`).Scan(&readLater, &insertSettings); err != nil {
		t.Fatal(err)
	}
	if !readLater || insertSettings {
		t.Errorf("after a migration: SELECT on the new table = %v, INSERT on settings = %v; want true, false", readLater, insertSettings)
	}
}

func TestGrantRuntimeRole_RefusesTheOwnerASuperuserAndAMissingRole(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, role := range []string{b.db.OwnerRole, "postgres"} {
		if _, err := b.owner.GrantRuntimeRole(b.ctx, role); err == nil || !strings.Contains(err.Error(), "another, ordinary role") {
			t.Errorf("grant to %s: got %v, want a refusal naming an ordinary role", role, err)
		}
	}
	// pgtest's owner may not create roles, as an owner usually may not.
	if _, err := b.owner.GrantRuntimeRole(b.ctx, "no_such_role_for_console_tests"); !errors.Is(err, ErrRoleMissing) {
		t.Errorf("grant to a missing role: got %v, want ErrRoleMissing", err)
	}
	if _, err := b.st.GrantRuntimeRole(b.ctx, b.db.RuntimeRole); !errors.Is(err, ErrPermissionDenied) {
		t.Errorf("grant as the runtime role: got %v, want ErrPermissionDenied", err)
	}
}

func TestCurrentRole_TellsTheRuntimeRoleFromTheOwnerAndASuperuser(t *testing.T) {
	t.Parallel()
	b := setup(t)
	su, err := Open(b.ctx, b.db.SuperuserURL, b.keys)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(su.Close)
	for _, c := range []struct {
		name                    string
		st                      *Store
		super, owns, privileged bool
	}{
		{"runtime role", b.st, false, false, false},
		{"owner", b.owner, false, true, true},
		{"superuser", su, true, true, true}, // a superuser is a member of every role
	} {
		r, err := c.st.CurrentRole(b.ctx)
		if err != nil || r.Superuser != c.super || r.OwnsSchema != c.owns || r.Privileged() != c.privileged {
			t.Errorf("%s: got %+v (privileged %v), %v; want superuser %v, owns %v, privileged %v",
				c.name, r, r.Privileged(), err, c.super, c.owns, c.privileged)
		}
	}
}
