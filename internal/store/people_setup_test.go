package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/zegocloud-console/console/internal/pgtest"
)

// Tests hash with cheap argon2 parameters; the production ones are checked in
// TestHashPassword_DefaultParamsFollowOWASP. Set while the test binary
// initialises, before any test runs, so no test races on it.
var _ = func() bool {
	passwordParams = argonParams{memory: 64, time: 1, threads: 1, saltLen: 16, keyLen: 32}
	return true
}()

var (
	peopleOrigin = Origin{RequestID: "req-people", ClientIP: "198.51.100.7", UserAgent: "people-test"}
	peopleSystem = Actor{Type: ActorSystem, Name: "system"}
)

// peopleEnv is what the people and keys tests need: a store on a fresh
// database and an admin to act as.
type peopleEnv struct {
	ctx   context.Context
	s     *Store // as the runtime role, as console serve runs
	owner *Store // as the schema owner, which sees every table
	admin Operator
	actor Actor
}

// newPeopleStore opens a store on the database at url.
func newPeopleStore(t *testing.T, url string) *Store {
	t.Helper()
	s, err := Open(t.Context(), url, nil)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// newPeopleEnv gives a test its own database with one admin, "root".
func newPeopleEnv(t *testing.T) peopleEnv {
	t.Helper()
	db := pgtest.New(t)
	e := peopleEnv{ctx: t.Context(), s: newPeopleStore(t, db.RuntimeURL), owner: newPeopleStore(t, db.OwnerURL)}
	e.admin = e.createOperator(t, "root", RoleAdmin, "root password 1")
	e.actor = operatorActor(e.admin)
	return e
}

// createOperator creates an operator or stops the test.
func (e peopleEnv) createOperator(t *testing.T, username, role, password string) Operator {
	t.Helper()
	op, err := e.s.CreateOperator(e.ctx, OperatorInput{Username: username, DisplayName: strings.ToUpper(username),
		Role: role, Password: password}, peopleSystem, peopleOrigin)
	if err != nil {
		t.Fatalf("create operator %s: %v", username, err)
	}
	return op
}

// createProject inserts a live project straight into the table.
func (e peopleEnv) createProject(t *testing.T, appID uint32) int64 {
	t.Helper()
	var id int64
	err := e.s.pool.QueryRow(e.ctx, `INSERT INTO projects (app_id, name, default_ttl_seconds, max_ttl_seconds)
		VALUES ($1, 'people test', 3600, 86400) RETURNING id`, int64(appID)).Scan(&id)
	if err != nil {
		t.Fatalf("insert project %d: %v", appID, err)
	}
	return id
}

// peopleCount runs a counting query.
func (e peopleEnv) peopleCount(t *testing.T, q string, args ...any) int {
	t.Helper()
	var n int
	if err := e.s.pool.QueryRow(e.ctx, q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// peopleAudit is one audit row as the tests look at it.
type peopleAudit struct {
	ActorType, ActorID, ActorName, Action, Outcome, TargetID, ClientIP string
	Details                                                            map[string]any
}

// auditEvents returns the events with action, oldest first.
func (e peopleEnv) auditEvents(t *testing.T, action string) []peopleAudit {
	t.Helper()
	rows, err := e.s.pool.Query(e.ctx, `SELECT actor_type, actor_id, actor_name, action, outcome, target_id,
		client_ip, details FROM audit_events WHERE action = $1 ORDER BY id`, action)
	if err != nil {
		t.Fatalf("audit events: %v", err)
	}
	defer rows.Close()
	var out []peopleAudit
	for rows.Next() {
		var a peopleAudit
		if err := rows.Scan(&a.ActorType, &a.ActorID, &a.ActorName, &a.Action, &a.Outcome, &a.TargetID,
			&a.ClientIP, &a.Details); err != nil {
			t.Fatalf("scan audit event: %v", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("audit events: %v", err)
	}
	return out
}

// rowsContaining returns "table: row" for every row of every table in the
// public schema whose JSON text contains needle, as the owner sees them.
func (e peopleEnv) rowsContaining(t *testing.T, needle string) []string {
	t.Helper()
	rows, err := e.owner.pool.Query(e.ctx, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1`)
	if err != nil {
		t.Fatalf("list tables: %v", err)
	}
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatalf("scan table name: %v", err)
		}
		tables = append(tables, name)
	}
	if err := rows.Err(); err != nil || len(tables) < 10 {
		t.Fatalf("list tables: got %d tables, err %v", len(tables), err)
	}
	var hits []string
	for _, table := range tables {
		q := fmt.Sprintf(`SELECT row_to_json(t)::text FROM %q t`, table)
		rows, err := e.owner.pool.Query(e.ctx, q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		for rows.Next() {
			var js string
			if err := rows.Scan(&js); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
			if strings.Contains(js, needle) {
				hits = append(hits, table+": "+js)
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	return hits
}

// peopleWantField stops the test unless err is a ValidationError on field.
func peopleWantField(t *testing.T, err error, field string) {
	t.Helper()
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("got error %v, want a ValidationError on %q", err, field)
	}
	if _, ok := ve.Fields[field]; !ok {
		t.Fatalf("got field errors %v, want one on %q", ve.Fields, field)
	}
}
