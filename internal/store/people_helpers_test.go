package store

import (
	"fmt"
	"strings"
	"testing"
)

var (
	peopleOrigin = Origin{RequestID: "req-people", ClientIP: "198.51.100.7", UserAgent: "people-test"}
	peopleSystem = Actor{Type: ActorSystem, Name: "system"}
)

// peopleAudit is one audit row as the tests look at it.
type peopleAudit struct {
	ActorType, ActorID, ActorName, Action, Outcome, TargetID, ClientIP string
	Details                                                            map[string]any
}

// auditEvents returns the events with action, oldest first.
func (b bundle) auditEvents(t *testing.T, action string) []peopleAudit {
	t.Helper()
	rows, err := b.st.pool.Query(b.ctx, `SELECT actor_type, actor_id, actor_name, action, outcome, target_id,
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
// public schema whose JSON text contains needle.
func (b bundle) rowsContaining(t *testing.T, needle string) []string {
	t.Helper()
	rows, err := b.st.pool.Query(b.ctx, `SELECT table_name FROM information_schema.tables
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
		rows, err := b.st.pool.Query(b.ctx, q)
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
