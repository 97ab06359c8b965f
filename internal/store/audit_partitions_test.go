package store

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"
)

// monthStart is the first instant of t's month, plus months, in UTC.
func monthStart(t time.Time, months int) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, months, 0)
}

// partitionExists tells whether the table name is still there.
func (b bundle) partitionExists(t *testing.T, name string) bool {
	t.Helper()
	return b.queryInt(t, `SELECT count(*) FROM pg_class WHERE relname = $1`, name) == 1
}

// ownerInt is queryInt as the schema owner, who may read a partition.
func (b bundle) ownerInt(t *testing.T, q string) int {
	t.Helper()
	var n int
	if err := b.owner.Pool().QueryRow(b.ctx, q).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// twoMonthTrail seals 20 events in each of the two months before the
// current one (their partitions made as the dev seed makes them), then 5
// of today, and gives the first instant of the first and second months.
func twoMonthTrail(t *testing.T) (bundle, time.Time, time.Time) {
	t.Helper()
	b := setup(t)
	first, second := monthStart(time.Now(), -2), monthStart(time.Now(), -1)
	if err := coverAuditMonths(b.ctx, b.owner.Pool(), first, second); err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		b.insertAt(t, second.Add(time.Duration(i-20)*time.Hour), auditTestEvent(i)) // the first month's last 20 hours
	}
	b.sealAll(t) // the first month is sealed before the second: chain order follows the months
	for i := range 20 {
		b.insertAt(t, second.Add(time.Duration(i)*time.Hour), auditTestEvent(20+i))
	}
	b.audit(t, 5)
	b.sealAll(t)
	return b, first, second
}

func TestPruneAudit_AWholeMonthGoesAsItsPartitionsAndTheChainStillVerifies(t *testing.T) {
	t.Parallel()
	b, first, second := twoMonthTrail(t)
	month := "p" + first.Format("200601")
	for _, table := range []string{"audit_events_", "audit_chain_", "audit_text_"} {
		if n := b.ownerInt(t, `SELECT count(*) FROM `+table+month); n != 20 {
			t.Fatalf("%s%s before the prune: %d rows, want the month's 20", table, month, n)
		}
	}
	deleted, err := b.owner.PruneAudit(b.ctx, second, pruneActor, Origin{})
	if err != nil || deleted != 20 {
		t.Fatalf("PruneAudit(%s): got %d, %v; want the first month's 20", second.Format(time.RFC3339), deleted, err)
	}
	for _, table := range []string{"audit_events_", "audit_chain_", "audit_text_"} {
		if b.partitionExists(t, table+month) {
			t.Errorf("%s%s is still there after pruning its whole month; want it dropped", table, month)
		}
	}
	r := b.mustVerifyOK(t)
	if r.FirstSeq != 21 || r.Events != 26 {
		t.Errorf("after the prune: %d events from seq %d; want 26 (20 + 5 + the prune event) from seq 21", r.Events, r.FirstSeq)
	}
	page, err := b.st.ListAudit(b.ctx, AuditFilter{Action: ActionAuditPrune}, "", 10)
	if err != nil || len(page.Events) != 1 {
		t.Fatalf("audit.prune events: got %d, %v; want 1", len(page.Events), err)
	}
	var details struct {
		DroppedMonths       []string `json:"dropped_months"`
		DeletedAsPartitions int64    `json:"deleted_as_partitions"`
	}
	if err := json.Unmarshal(page.Events[0].Details, &details); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(details.DroppedMonths, []string{first.Format("2006-01")}) || details.DeletedAsPartitions != 20 {
		t.Errorf("audit.prune details: %s; want the first month dropped with its 20 events", page.Events[0].Details)
	}
	// Writing, sealing and verifying go on.
	b.audit(t, 3)
	b.sealAll(t)
	if r := b.mustVerifyOK(t); r.Events != 29 {
		t.Errorf("events after more writes: %d, want 29", r.Events)
	}
}

// A month leaves the trail in the prune's transaction (detached), and its
// tables are dropped after the commit, with the trail no longer locked; the
// tables a prune could not drop (it stopped, the database went away) are
// dropped by the next one.
func TestPruneAudit_AMonthsTablesAreDroppedAfterTheCommitAndLeftoversByTheNextPrune(t *testing.T) {
	t.Parallel()
	b, first, second := twoMonthTrail(t)
	leftover := prunedPrefix + "events_p" + first.AddDate(-1, 0, 0).Format("200601")
	if _, err := b.owner.Pool().Exec(b.ctx, `CREATE TABLE `+leftover+` (id bigint)`); err != nil {
		t.Fatal(err)
	}
	r, err := b.owner.PruneAuditReport(b.ctx, second, pruneActor, Origin{})
	if err != nil || r.Deleted != 20 || r.AsPartitions != 20 || r.DropErr != nil {
		t.Fatalf("PruneAuditReport: got %+v, %v; want the first month's 20 events gone as partitions and their tables dropped", r, err)
	}
	if n := b.ownerInt(t, `SELECT count(*) FROM pg_tables WHERE starts_with(tablename, '`+prunedPrefix+`')`); n != 0 {
		t.Errorf("tables of pruned months after the prune: %d, want none (this prune's and the leftover %s dropped)", n, leftover)
	}
	month := "p" + first.Format("200601")
	for _, table := range []string{"audit_events_", "audit_chain_", "audit_text_"} {
		if b.partitionExists(t, table+month) {
			t.Errorf("%s%s is still there after pruning its whole month; want it gone", table, month)
		}
	}
	if r := b.mustVerifyOK(t); r.Events != 26 {
		t.Errorf("after the prune: %d events, want 26 (20 + 5 + the prune event)", r.Events)
	}
	// The month can be made again (the dev seed writes the past), as new.
	if err := coverAuditMonths(b.ctx, b.owner.Pool(), first, first); err != nil {
		t.Fatal(err)
	}
	if n := b.ownerInt(t, `SELECT count(*) FROM audit_events_`+month); n != 0 {
		t.Errorf("the month made again holds %d events, want none", n)
	}
}

func TestPruneAudit_APartialMonthIsDeletedRowByRowAfterTheWholeOnesAreDropped(t *testing.T) {
	t.Parallel()
	b, first, second := twoMonthTrail(t)
	cut := second.Add(10 * time.Hour) // ten of the second month's events lie before it
	if n, through, err := b.owner.AuditPrunePreview(b.ctx, cut); err != nil || n != 30 || through != 30 {
		t.Fatalf("preview: got %d through %d, %v; want 30 through 30", n, through, err)
	}
	deleted, err := b.owner.PruneAudit(b.ctx, cut, pruneActor, Origin{})
	if err != nil || deleted != 30 {
		t.Fatalf("PruneAudit: got %d, %v; want 30 (20 as a partition, 10 rows)", deleted, err)
	}
	if b.partitionExists(t, "audit_events_p"+first.Format("200601")) {
		t.Error("the first month's partition is still there")
	}
	if n := b.ownerInt(t, `SELECT count(*) FROM audit_events_p`+second.Format("200601")); n != 10 {
		t.Errorf("the second month's events after the prune: %d, want the 10 after the cut", n)
	}
	if r := b.mustVerifyOK(t); r.FirstSeq != 31 {
		t.Errorf("after the prune the chain starts at seq %d, want 31", r.FirstSeq)
	}
}

func TestPruneAudit_KeepsAMonthWithAnEventSealedAfterTheCut(t *testing.T) {
	t.Parallel()
	b := setup(t)
	first, second := monthStart(time.Now(), -2), monthStart(time.Now(), -1)
	if err := coverAuditMonths(b.ctx, b.owner.Pool(), first, second); err != nil {
		t.Fatal(err)
	}
	b.insertAt(t, first.Add(time.Hour), auditTestEvent(1))
	b.insertAt(t, second.Add(time.Hour), auditTestEvent(2))
	b.sealAll(t)
	b.insertAt(t, first.Add(2*time.Hour), auditTestEvent(3)) // committed late: sealed after the second month's
	b.sealAll(t)
	deleted, err := b.owner.PruneAudit(b.ctx, second, pruneActor, Origin{})
	if err != nil || deleted != 1 {
		t.Fatalf("PruneAudit: got %d, %v; want 1 (the late event at seq 3 stays, and so does its month)", deleted, err)
	}
	if !b.partitionExists(t, "audit_events_p"+first.Format("200601")) {
		t.Error("the first month was dropped with an event the chain still holds")
	}
	b.mustVerifyOK(t)
}

func TestAuditTrail_PagesExportAndVerifyAcrossAMonthBoundary(t *testing.T) {
	t.Parallel()
	b, _, second := twoMonthTrail(t)
	// Newest first, page after page, across both months and today.
	var got []int64
	cursor := ""
	for {
		page, err := b.st.ListAudit(b.ctx, AuditFilter{Action: "token.issue"}, cursor, 7)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page.Events {
			got = append(got, e.ID)
			if e.ChainSeq == nil {
				t.Errorf("event %d has no chain position", e.ID)
			}
		}
		if cursor = page.Next; cursor == "" {
			break
		}
	}
	var want []int64
	rows, err := b.owner.Pool().Query(b.ctx, `SELECT id FROM audit_events WHERE action = 'token.issue' ORDER BY occurred_at DESC, id DESC`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		want = append(want, id)
	}
	if len(want) < 40 || !slices.Equal(got, want) {
		t.Fatalf("pages across the month boundary: got %d ids %v, want %d %v", len(got), got, len(want), want)
	}
	// A time range that straddles the boundary, exported.
	var exported int
	f := AuditFilter{From: second.Add(-5 * time.Hour), To: second.Add(5 * time.Hour)}
	if err := b.st.ExportAudit(b.ctx, f, time.Second, func(AuditEvent) error { exported++; return nil }); err != nil || exported != 10 {
		t.Fatalf("export around the boundary: got %d, %v; want 5 + 5", exported, err)
	}
	// Free text in either month.
	for _, i := range []int{13, 33} {
		needle := fmt.Sprintf("t-%d", i)
		page, err := b.st.ListAudit(b.ctx, AuditFilter{Text: needle, From: monthStart(time.Now(), -3)}, "", 10)
		if err != nil || len(page.Events) != 1 || page.Events[0].TargetID != needle {
			t.Errorf("free text %q: got %d events, %v; want its event", needle, len(page.Events), err)
		}
	}
	b.mustVerifyOK(t)
}

func TestAuditPartitions_TheRuntimeRoleMakesMonthsAheadButCannotDropOne(t *testing.T) {
	t.Parallel()
	b := setup(t)
	added, err := b.st.EnsureAuditPartitions(b.ctx, 6)
	if err != nil || added != 3 { // the migration made the current month and the next 3
		t.Fatalf("EnsureAuditPartitions(6) as the runtime role: got %d, %v; want 3 months added", added, err)
	}
	ahead := "p" + monthStart(time.Now(), 6).Format("200601")
	for _, table := range []string{"audit_events_", "audit_chain_", "audit_text_"} {
		if !b.partitionExists(t, table+ahead) {
			t.Errorf("%s%s was not made", table, ahead)
		}
	}
	if added, err := b.st.EnsureAuditPartitions(b.ctx, 6); err != nil || added != 0 {
		t.Errorf("again: got %d, %v; want 0, nil", added, err)
	}
	if _, err := b.st.EnsureAuditPartitions(b.ctx, 25); err == nil {
		t.Error("25 months ahead was accepted; want at most 24")
	}
	current := "audit_events_p" + monthStart(time.Now(), 0).Format("200601")
	for _, sql := range []string{`DROP TABLE ` + current, `ALTER TABLE audit_events DETACH PARTITION ` + current,
		`TRUNCATE ` + current, `SELECT audit_partitions_cover(now() - interval '1 year', now())`,
		`CREATE TABLE audit_events_p209901 PARTITION OF audit_events FOR VALUES FROM ('2099-01-01') TO ('2099-02-01')`} {
		if _, err := b.st.Pool().Exec(b.ctx, sql); err == nil {
			t.Errorf("%s as the runtime role: accepted, want a refusal", sql)
		}
	}
	b.audit(t, 2)
	b.sealAll(t)
	b.mustVerifyOK(t)
}

func TestMigration00014_AnExistingTrailIsSplitIntoMonthsAndVerifiesBeforeAndAfter(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s, p, insert := trailAt00012(t)
	january, february := time.Date(2025, 1, 31, 20, 0, 0, 0, time.UTC), time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC)
	for i := range 12 {
		insert(january.Add(time.Duration(i)*time.Minute), fmt.Sprintf("january-%02d", i))
		insert(february.Add(time.Duration(i)*time.Minute), fmt.Sprintf("february-%02d", i))
	}
	if sealAsBefore00013(t, s, 100) != 24 {
		t.Fatal("seal before 00013: want 24 events")
	}
	insert(february.Add(time.Hour), "pending-needle")
	if _, err := p.UpTo(ctx, 13); err != nil {
		t.Fatalf("up to 00013: %v", err)
	}
	if r, err := s.VerifyAuditChain(ctx); err != nil || !r.OK || r.Events != 24 {
		t.Fatalf("verify before 00014: got %+v, %v; want the 24 sealed events verified", r, err)
	}

	if _, err := p.Up(ctx); err != nil {
		t.Fatalf("up from 00013: %v", err)
	}
	if r, err := s.VerifyAuditChain(ctx); err != nil || !r.OK || r.Events != 24 {
		t.Fatalf("verify after 00014: got %+v, %v; want the 24 sealed events verified", r, err)
	}
	for table, want := range map[string]int{"audit_events_p202501": 12, "audit_chain_p202501": 12, "audit_text_p202501": 12,
		"audit_events_p202502": 13, "audit_chain_p202502": 12, "audit_events_default": 0} {
		var n int
		mustScan(t, s.pool.QueryRow(ctx, `SELECT count(*) FROM `+table), &n)
		if n != want {
			t.Errorf("%s after 00014: %d rows, want %d", table, n, want)
		}
	}
	if n, err := s.SealPending(ctx, 0); err != nil || n != 1 {
		t.Fatalf("seal the pending event after 00014: got %d, %v; want 1", n, err)
	}
	if _, err := s.IndexAuditText(ctx); err != nil {
		t.Fatal(err)
	}
	from := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, needle := range []string{"january-07", "pending-needle"} {
		page, err := s.ListAudit(ctx, AuditFilter{Text: needle, From: from}, "", 10)
		if err != nil || len(page.Events) != 1 || page.Events[0].ChainSeq == nil {
			t.Errorf("free text %q after 00014: got %+v, %v; want its sealed event", needle, page.Events, err)
		}
	}
	var sequence int64
	mustScan(t, s.pool.QueryRow(ctx, `INSERT INTO audit_events (actor_type, action, outcome) VALUES ('system', 'test.after', 'success') RETURNING id`), &sequence)
	if sequence != 26 {
		t.Errorf("the next event id after 00014: %d, want 26 (ids go on)", sequence)
	}

	// And back: one table again, still verifying.
	if _, err := p.DownTo(ctx, 13); err != nil {
		t.Fatalf("down to 00013: %v", err)
	}
	var partitioned bool
	mustScan(t, s.pool.QueryRow(ctx, `SELECT relkind = 'p' FROM pg_class WHERE relname = 'audit_events'`), &partitioned)
	if partitioned {
		t.Fatal("audit_events is still partitioned after down to 00013")
	}
	if _, err := p.Up(ctx); err != nil {
		t.Fatalf("up again: %v", err)
	}
	if _, err := s.SealPending(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if r, err := s.VerifyAuditChain(ctx); err != nil || !r.OK || r.Events != 26 {
		t.Fatalf("verify after down and up: got %+v, %v; want 26 events", r, err)
	}
}

func TestFreeText_KeepsToTheLast31DaysUnlessGivenAStart(t *testing.T) {
	t.Parallel()
	b := setup(t)
	old := time.Now().Add(-AuditTextWindow - 24*time.Hour)
	if err := coverAuditMonths(b.ctx, b.owner.Pool(), old, time.Now()); err != nil {
		t.Fatal(err)
	}
	e := auditTestEvent(1)
	e.TargetID = "needle-old"
	b.insertAt(t, old, e)
	e.TargetID = "needle-new"
	b.insertAt(t, time.Now().Add(-time.Hour), e)
	b.sealAll(t)
	targets := func(f AuditFilter) []string {
		t.Helper()
		page, err := b.st.ListAudit(b.ctx, f, "", 10)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range page.Events {
			got = append(got, e.TargetID)
		}
		return got
	}
	if got := targets(AuditFilter{Text: "needle"}); !slices.Equal(got, []string{"needle-new"}) {
		t.Errorf("free text without a start: got %v, want only the event of the last 31 days", got)
	}
	if got := targets(AuditFilter{Text: "needle", From: old.Add(-time.Hour)}); !slices.Equal(got, []string{"needle-new", "needle-old"}) {
		t.Errorf("free text from before the old event: got %v, want both", got)
	}
	if got := targets(AuditFilter{Action: "token.issue"}); len(got) != 2 {
		t.Errorf("without free text there is no window: got %v, want both events", got)
	}
}
