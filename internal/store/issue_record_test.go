package store

import (
	"maps"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/zegocloud-console/console/internal/token04"
)

// issueEventDetails returns the details of the token.issue events, oldest first.
func (b bundle) issueEventDetails(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	rows, err := b.st.pool.Query(b.ctx, `SELECT details FROM audit_events WHERE action = 'token.issue' ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var d map[string]any
		if err := rows.Scan(&d); err != nil {
			t.Fatal(err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func sortedKeys(m map[string]any) []string { return slices.Sorted(maps.Keys(m)) }

func TestInsertIssueRowsForBenchmark_WritesTheRowsIssueTokenWrites(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.createProject(t, 42)
	apiKey := Actor{Type: ActorAPIKey, ID: "zc_abcdefgh", Name: "backend"}
	it := issue(t, b, IssueRequest{AppID: 42, UserID: "issued", Channel: ChannelAPI, Actor: apiKey, Origin: testOrigin})
	if err := b.st.InsertIssueRowsForBenchmark(b.ctx, 42, "benched", apiKey, testOrigin); err != nil {
		t.Fatalf("benchmark rows: %v", err)
	}
	recs, err := b.st.ListTokens(b.ctx, TokenFilter{AppID: 42}, "", 10)
	if err != nil || len(recs) != 2 {
		t.Fatalf("got %d records, %v; want 2", len(recs), err)
	}
	bench := recs[0]
	if bench.UserID != "benched" {
		bench = recs[1]
	}
	// Everything but the random and per-user values matches.
	got, want := bench, it.Record
	for _, r := range []*TokenRecord{&got, &want} {
		r.ID, r.UserID, r.Nonce, r.Fingerprint = "", "", 0, nil
		r.CTime, r.Expire = time.Time{}, time.Time{}.Add(r.Expire.Sub(r.CTime))
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("benchmark record %+v differs from the issued one %+v", got, want)
	}
	details := b.issueEventDetails(t)
	if len(details) != 2 || !slices.Equal(sortedKeys(details[0]), sortedKeys(details[1])) {
		t.Fatalf("got token.issue details %v, want the same keys for both", details)
	}
	for _, k := range []string{"mode", "channel", "ttl_seconds", "secret_version"} {
		if details[0][k] != details[1][k] {
			t.Errorf("details[%q]: got %v from the benchmark, want %v as issued", k, details[1][k], details[0][k])
		}
	}
}

func TestSeedGenerator_IssueEventsCarryTheDetailsIssueTokenWrites(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.createProject(t, 42)
	issue(t, b, IssueRequest{AppID: 42, UserID: "u", Channel: ChannelAPI, Actor: testActor})
	issued := b.issueEventDetails(t)[0]
	g := NewSeedGenerator(1, []uint32{42}, 100, time.Hour, time.Now())
	seen := 0
	for i := range 100 {
		e := g.Event(i)
		if e.Action != "token.issue" || e.Outcome != OutcomeSuccess {
			continue
		}
		seen++
		var d map[string]any
		if err := b.st.pool.QueryRow(b.ctx, `SELECT $1::jsonb`, e.Details).Scan(&d); err != nil {
			t.Fatalf("seeded details %s: %v", e.Details, err)
		}
		if !slices.Equal(sortedKeys(d), sortedKeys(issued)) || d["mode"] != token04.ModeGCM.String() || d["token_id"] != e.TargetID {
			t.Fatalf("seeded event %d: got details %v, want the keys of %v and its own token id", i, d, issued)
		}
	}
	if seen == 0 {
		t.Fatal("got no successful token.issue among 100 seeded events, want most of them")
	}
}
