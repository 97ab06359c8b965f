package store

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

var queryBase = time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)

// queryToken is the raw token of the events with i%6 == 0.
func queryToken(i int) string { return fmt.Sprintf("04AAAAAAAAAAAA%dAAAA", i/6) }

// seedQueryEvents writes 120 varied events, one an hour from queryBase, and
// returns them as read back, newest first.
func seedQueryEvents(t *testing.T, b bundle) []AuditEvent {
	t.Helper()
	actors := []string{"alice", "bob", "carol", "svc-key"}
	actions := []string{"token.issue", "token.revoke", "project.create", "auth.login_failed", "project.secret_rotate"}
	outcomes := []string{OutcomeSuccess, OutcomeDenied, OutcomeError}
	for i := range 120 {
		e := Event{
			Actor:      Actor{Type: ActorOperator, ID: fmt.Sprint(i % 4), Name: actors[i%4]},
			Origin:     Origin{RequestID: fmt.Sprint("r", i), ClientIP: fmt.Sprintf("10.0.%d.%d", i%3, i), UserAgent: "Mozilla/5.0"},
			Action:     actions[i%5],
			Outcome:    outcomes[(i/4)%3],
			AppID:      []uint32{0, 1001, 1002}[i%3],
			TargetType: "token", TargetID: fmt.Sprint("t-", i),
			Details: map[string]any{"n": i, "note": "plain"},
		}
		if i%7 == 0 {
			e.Origin.UserAgent = "curl/8.0"
		}
		if i%10 == 0 {
			e.Details["note"] = "50% off_x"
		}
		if i%10 == 5 {
			e.Details["note"] = "500 offx" // matches neither "50%" nor "off_x" literally
		}
		if i%6 == 0 {
			sum := sha256.Sum256([]byte(queryToken(i)))
			e.TokenFingerprint = sum[:]
		}
		b.insertAt(t, queryBase.Add(time.Duration(i)*time.Hour), e)
	}
	b.sealAll(t)
	return b.allEvents(t)
}

// matches is the reference semantics of AuditFilter, in Go.
func matches(f AuditFilter, e AuditEvent) bool {
	if f.Text != "" && f.From.IsZero() {
		f.From = time.Now().Add(-AuditTextWindow) // free text keeps to its window
	}
	if f.AppID != 0 && (e.AppID == nil || *e.AppID != int64(f.AppID)) {
		return false
	}
	if len(f.AppIDs) > 0 && (e.AppID == nil || !slices.Contains(f.AppIDs, uint32(*e.AppID))) {
		return false
	}
	if f.Actor != "" && e.ActorName != f.Actor {
		return false
	}
	if p, ok := strings.CutSuffix(f.Action, "*"); ok && !strings.HasPrefix(e.Action, p) {
		return false
	} else if !ok && f.Action != "" && e.Action != f.Action {
		return false
	}
	if f.Outcome != "" && e.Outcome != f.Outcome {
		return false
	}
	if !f.From.IsZero() && e.OccurredAt.Before(f.From) || !f.To.IsZero() && !e.OccurredAt.Before(f.To) {
		return false
	}
	if f.Text != "" {
		q := strings.ToLower(f.Text)
		found := false
		for _, s := range []string{e.ActorName, e.TargetID, e.Action, e.UserAgent, e.ClientIP, string(e.Details)} {
			found = found || strings.Contains(strings.ToLower(s), q)
		}
		if !found {
			return false
		}
	}
	return f.Fingerprint == nil || string(f.Fingerprint) == string(e.TokenFingerprint)
}

// listAll pages through ListAudit and checks the order on the way.
func listAll(t *testing.T, b bundle, f AuditFilter, limit int) []int64 {
	t.Helper()
	var ids []int64
	var last AuditEvent
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 200 {
			t.Fatal("pagination does not end")
		}
		page, err := b.st.ListAudit(b.ctx, f, cursor, limit)
		if err != nil {
			t.Fatalf("ListAudit: %v", err)
		}
		if len(page.Events) > limit || page.Next != "" && len(page.Events) != limit {
			t.Fatalf("page of %d events with next %q at limit %d", len(page.Events), page.Next, limit)
		}
		for _, e := range page.Events {
			if len(ids) > 0 && (e.OccurredAt.After(last.OccurredAt) || e.OccurredAt.Equal(last.OccurredAt) && e.ID >= last.ID) {
				t.Fatalf("event %d (%s) after %d (%s): not newest first", e.ID, e.OccurredAt, last.ID, last.OccurredAt)
			}
			ids = append(ids, e.ID)
			last = e
		}
		if page.Next == "" {
			return ids
		}
		cursor = page.Next
	}
}

func TestListAudit_FiltersAloneAndCombined(t *testing.T) {
	t.Parallel()
	b := setup(t)
	all := seedQueryEvents(t, b)
	if len(all) != 120 {
		t.Fatalf("seeded %d events, want 120", len(all))
	}
	fp := sha256.Sum256([]byte(queryToken(12)))
	at := func(h int) time.Time { return queryBase.Add(time.Duration(h) * time.Hour) }
	filters := map[string]AuditFilter{
		"none":             {},
		"app":              {AppID: 1001},
		"actor":            {Actor: "bob"},
		"action":           {Action: "token.revoke"},
		"action prefix":    {Action: "project.*"},
		"outcome":          {Outcome: OutcomeDenied},
		"from":             {From: at(100)},
		"to":               {To: at(10)},
		"from to":          {From: at(20), To: at(30)},
		"text agent":       {Text: "CURL", From: queryBase},
		"text percent":     {Text: "50%", From: queryBase},
		"text underscore":  {Text: "off_x", From: queryBase},
		"text ip":          {Text: "10.0.1.", From: queryBase},
		"text action":      {Text: "secret_rot", From: queryBase},
		"text none":        {Text: "mallory", From: queryBase},
		"fingerprint":      {Fingerprint: fp[:]},
		"app action":       {AppID: 1002, Action: "token.issue"},
		"app prefix out":   {AppID: 1001, Action: "token.*", Outcome: OutcomeSuccess},
		"actor range":      {Actor: "alice", From: at(10), To: at(90)},
		"text app":         {Text: "curl", AppID: 1001, From: queryBase},
		"everything":       {AppID: 1001, Actor: "svc-key", Action: "token.*", Outcome: OutcomeDenied, From: at(1), To: at(119), Text: "mozilla"},
		"fingerprint none": {Fingerprint: make([]byte, 32)},
	}
	for name, f := range filters {
		t.Run(name, func(t *testing.T) {
			var want []int64
			for _, e := range all {
				if matches(f, e) {
					want = append(want, e.ID)
				}
			}
			if name != "text none" && name != "fingerprint none" && len(want) == 0 {
				t.Fatalf("the test data matches nothing for %s: pick another value", name)
			}
			for _, limit := range []int{7, 500} {
				if got := listAll(t, b, f, limit); !slices.Equal(got, want) {
					t.Errorf("limit %d: got ids %v, want %v", limit, got, want)
				}
			}
		})
	}
}

func TestListAudit_ProjectScopeIsTheUnionNewestFirstAcrossPages(t *testing.T) {
	t.Parallel()
	b := setup(t)
	// Five projects and none; events of different projects share a time
	// (six at each hour), so that pages end between equal times; and the
	// newest events are a burst in project 1005, outside every scope below.
	actions := []string{"token.issue", "token.revoke", "project.update"}
	for i := range 150 {
		app := []uint32{1001, 1002, 1003, 1004, 0}[i%5]
		if i >= 120 {
			app = 1005
		}
		b.insertAt(t, queryBase.Add(time.Duration(i/6)*time.Hour), Event{
			Actor:  Actor{Type: ActorOperator, ID: "1", Name: []string{"alice", "bob"}[i%2]},
			Action: actions[i%3], Outcome: []string{OutcomeSuccess, OutcomeDenied}[i/2%2], AppID: app,
			TargetType: "token", TargetID: fmt.Sprint("t-", i), Details: map[string]any{"n": i},
		})
	}
	all := b.allEvents(t)
	at := func(h int) time.Time { return queryBase.Add(time.Duration(h) * time.Hour) }
	three := []uint32{1004, 1001, 1003, 1001} // unsorted, with a repeat
	filters := map[string]AuditFilter{
		"three":                  {AppIDs: three},
		"one":                    {AppIDs: []uint32{1002}},
		"app_id":                 {AppID: 1003},
		"app_id inside scope":    {AppID: 1003, AppIDs: three},
		"app_id outside scope":   {AppID: 1002, AppIDs: three},
		"three action":           {AppIDs: three, Action: "token.revoke"},
		"three action prefix":    {AppIDs: three, Action: "token.*"},
		"three from to":          {AppIDs: three, From: at(5), To: at(30)},
		"three action from to":   {AppIDs: three, Action: "token.issue", From: at(5), To: at(30)},
		"three actor":            {AppIDs: three, Actor: "bob"},
		"three outcome":          {AppIDs: three, Outcome: OutcomeDenied},
		"one actor outcome":      {AppIDs: []uint32{1001}, Actor: "alice", Outcome: OutcomeSuccess},
		"three text":             {AppIDs: three, Text: "t-1", From: queryBase},
		"app_id action prefix":   {AppID: 1004, Action: "project.*", From: at(2)},
		"burst project only":     {AppIDs: []uint32{1005}},
		"projects without event": {AppIDs: []uint32{7, 8}},
	}
	for name, f := range filters {
		t.Run(name, func(t *testing.T) {
			var want []int64
			for _, e := range all {
				if matches(f, e) {
					want = append(want, e.ID)
				}
			}
			if name != "app_id outside scope" && name != "projects without event" && len(want) == 0 {
				t.Fatalf("the test data matches nothing for %s: pick another value", name)
			}
			for _, limit := range []int{1, 4, 7, 500} {
				if got := listAll(t, b, f, limit); !slices.Equal(got, want) {
					t.Errorf("limit %d: got ids %v, want %v", limit, got, want)
				}
			}
			var exported []int64
			if err := b.st.ExportAudit(b.ctx, f, 0, func(e AuditEvent) error {
				exported = append(exported, e.ID)
				return nil
			}); err != nil || !slices.Equal(exported, want) {
				t.Errorf("export: got ids %v (%v), want %v", exported, err, want)
			}
		})
	}
}

func TestListAudit_RejectsBadCursors(t *testing.T) {
	t.Parallel()
	b := setup(t)
	good := AuditCursor{OccurredAt: queryBase.Add(time.Microsecond), ID: 1 << 40}
	for _, c := range []string{"", "x", "a1", "a1AAAAAAAAAAA", AuditCursor{OccurredAt: queryBase}.String(),
		AuditCursor{OccurredAt: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), ID: 1}.String(),
		"f1!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!", "a2" + good.String()[2:], good.String() + "A"} {
		if c == "" {
			continue // the first page
		}
		if _, err := b.st.ListAudit(b.ctx, AuditFilter{}, c, 10); !errors.Is(err, ErrBadCursor) {
			t.Errorf("cursor %q: got %v, want ErrBadCursor", c, err)
		}
	}
	if c, err := ParseAuditCursor(good.String()); err != nil || c != good {
		t.Errorf("round trip: got %+v, %v; want %+v", c, err, good)
	}
}

func TestParseAuditFilter(t *testing.T) {
	t.Parallel()
	fp := sha256.Sum256([]byte("04AAAABBBB=="))
	fpHex := fmt.Sprintf("%x", fp)
	good := []struct {
		query string
		want  AuditFilter
	}{
		{"", AuditFilter{}},
		{"app_id=1234567&actor=alice&outcome=DENIED", AuditFilter{AppID: 1234567, Actor: "alice", Outcome: "denied"}},
		{"app_id=0&cursor=whatever&format=csv", AuditFilter{}},
		{"action=token.issue", AuditFilter{Action: "token.issue"}},
		{"action=+Token.*+", AuditFilter{Action: "token.*"}},
		{"action=project.secret.*", AuditFilter{Action: "project.secret.*"}},
		{"from=2024-05-01&to=2024-05-01", AuditFilter{From: queryBase, To: queryBase.AddDate(0, 0, 1)}},
		{"from=2024-05-01T13:30&to=2024-05-01T13:30:59", AuditFilter{
			From: queryBase.Add(13*time.Hour + 30*time.Minute), To: queryBase.Add(13*time.Hour + 30*time.Minute + 59*time.Second)}},
		{"from=2024-05-01T15:30:00.1234567%2B02:00", AuditFilter{From: queryBase.Add(13*time.Hour + 30*time.Minute + 123456*time.Microsecond)}},
		{"q=++50%25+off_x++", AuditFilter{Text: "50% off_x"}},
		{"token=04AAAABBBB==", AuditFilter{Fingerprint: fp[:]}},
		{"token=+04AA%0D%0AAABB%0A++BB==%0A", AuditFilter{Fingerprint: fp[:]}}, // pasted with line breaks
		{"fingerprint=" + strings.ToUpper(fpHex), AuditFilter{Fingerprint: fp[:]}},
		{"token=04AAAABBBB==&fingerprint=" + fpHex, AuditFilter{Fingerprint: fp[:]}},
	}
	for _, tt := range good {
		v, err := parseQuery(tt.query)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ParseAuditFilter(v)
		if err != nil {
			t.Errorf("%q: unexpected error %v", tt.query, err)
			continue
		}
		if !filtersEqual(got, tt.want) {
			t.Errorf("%q: got %+v, want %+v", tt.query, got, tt.want)
		}
		if back, err := ParseAuditFilter(got.Values()); err != nil || !filtersEqual(back, got) {
			t.Errorf("%q: Values() %q reads back as %+v, %v", tt.query, got.Values().Encode(), back, err)
		}
	}
	bad := []struct{ query, param string }{
		{"app_id=abc", "app_id"},
		{"app_id=4294967296", "app_id"},
		{"app_id=-1", "app_id"},
		{"action=token", "action"},
		{"action=token.", "action"},
		{"action=*", "action"},
		{"action=token.*.issue", "action"},
		{"action=token%25", "action"},
		{"outcome=maybe", "outcome"},
		{"from=yesterday", "from"},
		{"to=2024-13-01", "to"},
		{"from=2024-05-02&to=2024-05-01T12:00", "to"},
		{"from=2024-05-01T00:00:00Z&to=2024-05-01T00:00:00Z", "to"},
		{"q=a%00b", "q"},
		{"q=ab", "q"},
		{"q=+%E2%82%AC%E2%82%AC+", "q"},
		{"q=a%1Fb", "q"},
		{"q=%FF", "q"},
		{"q=" + strings.Repeat("x", 201), "q"},
		{"actor=" + strings.Repeat("x", 201), "actor"},
		{"token=eyJhbGciOi", "token"},
		{"fingerprint=abc", "fingerprint"},
		{"fingerprint=" + strings.Repeat("0", 64) + "&token=04AAAABBBB==", "fingerprint"},
	}
	for _, tt := range bad {
		v, err := parseQuery(tt.query)
		if err != nil {
			t.Fatal(err)
		}
		_, err = ParseAuditFilter(v)
		if fields := FieldErrors(err); fields[tt.param] == "" {
			t.Errorf("%q: got %v, want an error naming %s", tt.query, err, tt.param)
		}
	}
}

func TestListAudit_ACursorWorksOnlyWithTheFiltersOfItsPage(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.audit(t, 3)
	page, err := b.st.ListAudit(b.ctx, AuditFilter{}, "", 1)
	if err != nil || page.Next == "" {
		t.Fatalf("first page: got %v, next %q; want a next page", err, page.Next)
	}
	if _, err := b.st.ListAudit(b.ctx, AuditFilter{}, page.Next, 1); err != nil {
		t.Fatalf("same filters: got %v, want the next page", err)
	}
	for _, other := range []AuditFilter{{AppIDs: []uint32{1}}, {Outcome: OutcomeSuccess}} {
		if _, err := b.st.ListAudit(b.ctx, other, page.Next, 1); !errors.Is(err, ErrCursorFilters) || !errors.Is(err, ErrBadCursor) {
			t.Errorf("filter %+v: got %v, want ErrCursorFilters (an ErrBadCursor)", other, err)
		}
	}
	if (AuditFilter{AppIDs: []uint32{1, 2}}).digest() != (AuditFilter{AppIDs: []uint32{2, 1}}).digest() {
		t.Error("the same projects in another order make another cursor filter")
	}
}
