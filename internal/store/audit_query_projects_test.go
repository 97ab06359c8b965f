package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// keyScope is an API key's view of the trail: AppIDs, read as the projects
// that have them now.
type keyScope struct {
	apps []uint32
	live []int64 // the ids of the live projects with those AppIDs
}

// filter is f limited to the scope, as the API limits it.
func (k keyScope) filter(f AuditFilter) AuditFilter {
	f.AppIDs, f.LiveProjects = k.apps, true
	return f
}

// sees is the reference semantics of k.filter(f), in Go.
func (k keyScope) sees(f AuditFilter, e AuditEvent) bool {
	if e.ProjectID == nil || !slices.Contains(k.live, *e.ProjectID) {
		return false
	}
	if f.AppID != 0 && (!slices.Contains(k.apps, f.AppID) || e.AppID == nil || *e.AppID != int64(f.AppID)) {
		return false
	}
	return matches(f, e)
}

// keyTrail writes 360 events over four months (their partitions made), three
// at each instant, about the live projects 3001, 3002, 3003 and 3005 (a key's
// scope), 3004 (live, outside it), the deleted project that had 3005 before,
// AppID 3006 without a project, and nothing. alice and denied are rare in
// the scope and common outside it. It returns the scope and every event,
// newest first.
func keyTrail(t *testing.T) (bundle, keyScope, []AuditEvent) {
	t.Helper()
	b := setup(t)
	if err := coverAuditMonths(b.ctx, b.owner.Pool(), queryBase.AddDate(0, -1, 0), queryBase.AddDate(0, 3, 0)); err != nil {
		t.Fatal(err)
	}
	deleted := b.insertProject(t, 3005)
	mustExec(t, b.ctx, b.owner.Pool(), `UPDATE projects SET deleted_at = now() WHERE id = $1`, deleted)
	k := keyScope{apps: []uint32{3005, 3001, 3003, 3002}}
	ids := map[uint32]int64{}
	for _, app := range []uint32{3001, 3002, 3003, 3004, 3005} {
		ids[app] = b.insertProject(t, app)
		if app != 3004 {
			k.live = append(k.live, ids[app])
		}
	}
	type about struct {
		app     uint32
		project int64
	}
	slots := []about{{3001, ids[3001]}, {3002, ids[3002]}, {3003, ids[3003]}, {3005, ids[3005]},
		{3004, ids[3004]}, {3005, deleted}, {3006, 0}, {0, 0}}
	start := queryBase.AddDate(0, 0, -10) // April 21st: the events reach into July
	for i := range 360 {
		slot := i % len(slots)
		outside := slot >= 4
		actor, outcome := []string{"bob", "carol"}[i/2%2], OutcomeSuccess
		if outside || i%5 == 0 {
			actor = "alice"
		}
		switch {
		case outside || i%7 == 1:
			outcome = OutcomeDenied
		case i%10 == 3:
			outcome = OutcomeError
		}
		b.insertAt(t, start.Add(time.Duration(i/3)*18*time.Hour), Event{
			Actor:  Actor{Type: ActorOperator, ID: "1", Name: actor},
			Action: []string{"token.issue", "token.revoke", "project.update"}[i%3], Outcome: outcome,
			AppID: slots[slot].app, ProjectID: slots[slot].project,
			TargetType: "token", TargetID: fmt.Sprint("t-", i), Details: map[string]any{"n": i},
		})
	}
	all := b.allEvents(t)
	if len(all) != 360 {
		t.Fatalf("read back %d events, want 360", len(all))
	}
	if months := b.ownerInt(t, `SELECT count(DISTINCT tableoid) FROM audit_events`); months != 4 {
		t.Fatalf("the events lie in %d partitions, want 4 months", months)
	}
	return b, k, all
}

func TestListAudit_AKeysProjectsFindTheirActorAndOutcomeAcrossMonthsAndPages(t *testing.T) {
	t.Parallel()
	b, k, all := keyTrail(t)
	june, july := queryBase.AddDate(0, 1, 0), queryBase.AddDate(0, 2, 0)
	filters := map[string]AuditFilter{
		"actor":                      {Actor: "alice"},
		"actor common in the scope":  {Actor: "bob"},
		"outcome":                    {Outcome: OutcomeDenied},
		"outcome error":              {Outcome: OutcomeError},
		"outcome success":            {Outcome: OutcomeSuccess},
		"actor and outcome":          {Actor: "alice", Outcome: OutcomeDenied},
		"actor and action":           {Actor: "carol", Action: "token.revoke"},
		"outcome and action prefix":  {Outcome: OutcomeDenied, Action: "token.*"},
		"actor across months":        {Actor: "bob", From: june.Add(-5 * 24 * time.Hour), To: july.Add(5 * 24 * time.Hour)},
		"outcome in a month":         {Outcome: OutcomeError, From: june, To: july},
		"one project actor":          {AppID: 3002, Actor: "bob"},
		"reused AppID outcome":       {AppID: 3005, Outcome: OutcomeDenied},
		"actor nobody has":           {Actor: "mallory"},
		"outcome outside the scope":  {AppID: 3004, Outcome: OutcomeDenied},
		"actor and outcome together": {Actor: "carol", Outcome: OutcomeError},
	}
	for name, f := range filters {
		t.Run(name, func(t *testing.T) {
			var want []int64
			for _, e := range all {
				if k.sees(f, e) {
					want = append(want, e.ID)
				}
			}
			if name != "actor nobody has" && name != "outcome outside the scope" && len(want) == 0 {
				t.Fatalf("the test data matches nothing for %s: pick another value", name)
			}
			for _, limit := range []int{1, 3, 7, 500} {
				if got := listAll(t, b, k.filter(f), limit); !slices.Equal(got, want) {
					t.Errorf("limit %d: got ids %v, want %v", limit, got, want)
				}
			}
			var exported []int64
			if err := b.st.ExportAudit(b.ctx, k.filter(f), 0, func(e AuditEvent) error {
				exported = append(exported, e.ID)
				return nil
			}); err != nil || !slices.Equal(exported, want) {
				t.Errorf("export: got ids %v (%v), want %v", exported, err, want)
			}
		})
	}
}

// explainAnalyze runs sql with args under EXPLAIN (ANALYZE, FORMAT JSON) in
// a transaction of its own, after the statements set (such as "; SET LOCAL
// …"), and gives its plan.
func explainAnalyze(t *testing.T, ctx context.Context, pool *pgxpool.Pool, set, sql string, args []any) map[string]any {
	t.Helper()
	var out []byte
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SET LOCAL statement_timeout = 10000"+set); err != nil {
			return err
		}
		return tx.QueryRow(ctx, "EXPLAIN (ANALYZE, FORMAT JSON) "+sql, append([]any{pgx.QueryExecModeCacheDescribe}, args...)...).Scan(&out)
	})
	if err != nil {
		t.Fatal(err)
	}
	var plans []struct {
		Plan map[string]any `json:"Plan"`
	}
	if err := json.Unmarshal(out, &plans); err != nil || len(plans) != 1 {
		t.Fatalf("EXPLAIN: %v: %s", err, out)
	}
	return plans[0].Plan
}

// rowsRead is how many rows the plan of EXPLAIN (ANALYZE, FORMAT JSON) read
// from audit_events (its partitions and their indexes), kept or filtered
// out, over every loop.
func rowsRead(plan map[string]any) float64 {
	n := 0.0
	name, _ := plan["Relation Name"].(string)
	if name == "" {
		name, _ = plan["Index Name"].(string)
	}
	if strings.HasPrefix(name, "audit_events") {
		num := func(k string) float64 { v, _ := plan[k].(float64); return v }
		n += (num("Actual Rows") + num("Rows Removed by Filter") + num("Rows Removed by Index Recheck")) * num("Actual Loops")
	}
	children, _ := plan["Plans"].([]any)
	for _, c := range children {
		if c, ok := c.(map[string]any); ok {
			n += rowsRead(c)
		}
	}
	return n
}

func TestListAudit_AKeysPageOfAnActorOrOutcomeReadsAboutAPageOfEachProject(t *testing.T) {
	t.Parallel()
	b := setup(t)
	if err := coverAuditMonths(b.ctx, b.owner.Pool(), queryBase, queryBase); err != nil {
		t.Fatal(err)
	}
	// Five projects with 400 events each of svc, and, before those, three
	// each of alice, one denied and one an error; after them all, 3,000
	// events of alice, denied, about no project.
	k := keyScope{apps: []uint32{4001, 4002, 4003, 4004, 4005}}
	for _, app := range k.apps {
		k.live = append(k.live, b.insertProject(t, app))
	}
	insert := func(n int, actor, outcome string, apps, projects []int64, from time.Time) {
		t.Helper()
		mustExec(t, b.ctx, b.owner.Pool(), `INSERT INTO audit_events (occurred_at, actor_type, actor_name, action, outcome, app_id, project_id)
			SELECT $1::timestamptz + i * interval '1 second', 'operator', $2, 'token.issue', $3,
				nullif(($4::bigint[])[1 + i % cardinality($4)], 0), nullif(($5::bigint[])[1 + i % cardinality($5)], 0)
			FROM generate_series(0, $6 - 1) AS i`, from, actor, outcome, apps, projects, n)
	}
	apps := make([]int64, len(k.apps))
	for i, app := range k.apps {
		apps[i] = int64(app)
	}
	insert(5, "alice", OutcomeDenied, apps, k.live, queryBase)
	insert(5, "alice", OutcomeError, apps, k.live, queryBase.Add(time.Minute))
	insert(5, "alice", OutcomeSuccess, apps, k.live, queryBase.Add(2*time.Minute))
	insert(2000, "svc", OutcomeSuccess, apps, k.live, queryBase.Add(time.Hour))
	insert(3000, "alice", OutcomeDenied, []int64{0}, []int64{0}, queryBase.Add(2*time.Hour))
	mustExec(t, b.ctx, b.owner.Pool(), `ANALYZE audit_events`)

	const limit = 21
	bound := float64(3 * len(k.apps) * limit)
	for _, tc := range []struct {
		name string
		f    AuditFilter
		want int
	}{
		{"actor=alice", AuditFilter{Actor: "alice"}, 15},
		{"outcome=denied", AuditFilter{Outcome: OutcomeDenied}, 5},
		{"outcome=error", AuditFilter{Outcome: OutcomeError}, 5},
	} {
		f := k.filter(tc.f)
		sql, args := f.query(nil, limit)
		plan := explainAnalyze(t, b.ctx, b.st.pool, "", sql, args)
		if got := plan["Actual Rows"].(float64); int(got) != tc.want {
			t.Errorf("%s: the page has %v events, want %d", tc.name, got, tc.want)
		}
		if read := rowsRead(plan); read > bound {
			t.Errorf("%s: a page of %d read %.0f rows of audit_events from %d projects, want at most %.0f "+
				"(about a page from each): it walks events outside the projects or of other values", tc.name, limit, read, len(k.apps), bound)
		}
	}
}

// Free text reads the seal and text queues row by row, each event by its
// key, whatever the queues' statistics say: when they still counted a
// burst's rows (autovacuum had not been by), the planner read the text of
// every event in the window instead, 1.4 s on a 2 M trail with the queues
// empty.
func TestListAudit_FreeTextReadsTheQueuesByKeyEvenWithStaleStatistics(t *testing.T) {
	t.Parallel()
	b := setup(t)
	mustExec(t, b.ctx, b.st.Pool(), `INSERT INTO audit_events (actor_type, action, outcome, app_id)
		SELECT 'system', 'token.issue', 'success', 7 FROM generate_series(1, 3000)`)
	b.sealAll(t)
	if _, err := b.st.IndexAuditText(b.ctx); err != nil {
		t.Fatal(err)
	}
	su, err := pgx.Connect(b.ctx, b.db.SuperuserURL)
	if err != nil {
		t.Fatal(err)
	}
	defer su.Close(b.ctx)
	// What a burst leaves in the statistics: queues of a billion rows a page.
	mustExec(t, b.ctx, su, `UPDATE pg_class SET reltuples = 1e9, relpages = 1 WHERE relname IN ('audit_unsealed', 'audit_unindexed')`)
	sql, args := AuditFilter{Text: "no event says this"}.query(nil, 100)
	if read := matchesRead(explainAnalyze(t, b.ctx, b.st.Pool(), "", sql, args)); read > 0 {
		t.Errorf("gathering the matches of free text with empty queues read %.0f rows of audit_events, want none: "+
			"it read the events' text instead of the queues", read)
	}
}

// matchesRead is rowsRead of the plan's InitPlans: what gathering the
// matches of free text read, before the page reads them by id.
func matchesRead(plan map[string]any) float64 {
	if rel, _ := plan["Parent Relationship"].(string); rel == "InitPlan" {
		return rowsRead(plan)
	}
	n := 0.0
	children, _ := plan["Plans"].([]any)
	for _, c := range children {
		if c, ok := c.(map[string]any); ok {
			n += matchesRead(c)
		}
	}
	return n
}
