package store

import (
	"testing"
	"time"

	"github.com/zegocloud-console/console/internal/token04"
)

func TestStats_ProjectStatsCountsIssuedActiveAndRevoked(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.createProject(t, 7)
	b.createProject(t, 8)
	now := time.Now()
	at := func(appID uint32, ago time.Duration) IssuedToken {
		return issue(t, b, IssueRequest{AppID: appID, UserID: "u", Mode: token04.ModeGCM, Now: now.Add(-ago)})
	}
	at(7, 0)                   // active
	live := at(7, time.Minute) // active, then revoked
	at(7, 2*time.Hour)         // expired (1h TTL), inside 24h
	at(7, 3*24*time.Hour)      // inside 7d
	at(7, 10*24*time.Hour)     // outside 7d
	if _, err := b.st.RevokeToken(b.ctx, 7, live.Record.ID, "test", testActor, testOrigin); err != nil {
		t.Fatalf("revoke: %v", err)
	}

	stats, err := b.st.ProjectStats(b.ctx)
	if err != nil {
		t.Fatalf("project stats: %v", err)
	}
	if len(stats) != 2 {
		t.Fatalf("projects: got %d, want 2", len(stats))
	}
	got := map[int64]ProjectStats{}
	for _, s := range stats {
		got[s.AppID] = s
	}
	want := ProjectStats{AppID: 7, Name: "Demo", Environment: "test", Issued24h: 3, Issued7d: 4, Active: 1, Revoked: 1}
	if got[7] != want {
		t.Errorf("project 7: got %+v, want %+v", got[7], want)
	}
	if s := got[8]; s.Issued24h != 0 || s.Issued7d != 0 || s.Active != 0 || s.Revoked != 0 {
		t.Errorf("project 8 (no tokens): got %+v, want zero counts", s)
	}
}

func TestStats_ProjectStatsLeavesOutDeletedProjects(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.createProject(t, 7)
	b.createProject(t, 8)
	if err := b.st.DeleteProject(b.ctx, 8, testActor, testOrigin); err != nil {
		t.Fatalf("delete: %v", err)
	}
	stats, err := b.st.ProjectStats(b.ctx)
	if err != nil {
		t.Fatalf("project stats: %v", err)
	}
	if len(stats) != 1 || stats[0].AppID != 7 {
		t.Fatalf("got %+v, want only project 7", stats)
	}
}

func TestStats_IssuedPerDayFillsEveryDayOldestFirst(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.createProject(t, 7)
	b.createProject(t, 8)
	now := time.Now().UTC()
	agos := map[uint32][]time.Duration{
		7: {0, time.Minute, 5 * 24 * time.Hour, 29 * 24 * time.Hour, 31 * 24 * time.Hour},
		8: {0, 5 * 24 * time.Hour},
	}
	today := now.Truncate(24 * time.Hour)
	wantAll, want7 := make([]int64, 30), make([]int64, 30)
	for appID, list := range agos {
		for _, ago := range list {
			ctime := now.Add(-ago).Truncate(time.Second)
			issue(t, b, IssueRequest{AppID: appID, UserID: "u", Mode: token04.ModeGCM, Now: ctime})
			back := int(today.Sub(ctime.Truncate(24*time.Hour)) / (24 * time.Hour))
			if back < 30 {
				wantAll[29-back]++
				if appID == 7 {
					want7[29-back]++
				}
			}
		}
	}

	for _, tc := range []struct {
		appID uint32
		want  []int64
	}{{0, wantAll}, {7, want7}} {
		days, err := b.st.IssuedPerDay(b.ctx, tc.appID, 30, nil)
		if err != nil {
			t.Fatalf("issued per day: %v", err)
		}
		if len(days) != 30 {
			t.Fatalf("app %d: got %d days, want 30", tc.appID, len(days))
		}
		if !days[29].Day.Equal(today) || !days[0].Day.Equal(today.AddDate(0, 0, -29)) {
			t.Errorf("app %d: days run from %v to %v, want %v to %v", tc.appID, days[0].Day, days[29].Day, today.AddDate(0, 0, -29), today)
		}
		for i, d := range days {
			if d.Count != tc.want[i] {
				t.Errorf("app %d, %s: got %d, want %d", tc.appID, d.Day.Format(time.DateOnly), d.Count, tc.want[i])
			}
		}
	}
}

func TestStats_IssuedPerDayRejectsABadRange(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, days := range []int{0, -1, 367} {
		if _, err := b.st.IssuedPerDay(b.ctx, 0, days, nil); err == nil {
			t.Errorf("days %d: got no error", days)
		}
	}
}

func TestStats_IssuedPerDayCountsTheViewersCalendarDays(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.createProject(t, 7)
	shanghai, err := time.LoadLocation("Asia/Shanghai") // UTC+8, no daylight saving
	if err != nil {
		t.Fatal(err)
	}
	// 20:00 UTC two days ago is 04:00 the next morning in Shanghai.
	ctime := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -2).Add(20 * time.Hour)
	issue(t, b, IssueRequest{AppID: 7, UserID: "u", Mode: token04.ModeGCM, Now: ctime})
	for _, loc := range []*time.Location{time.UTC, shanghai} {
		days, err := b.st.IssuedPerDay(b.ctx, 7, 30, loc)
		if err != nil {
			t.Fatalf("issued per day in %s: %v", loc, err)
		}
		want := ctime.In(loc).Format(time.DateOnly)
		for _, d := range days {
			if h, m, _ := d.Day.In(loc).Clock(); h != 0 || m != 0 {
				t.Errorf("%s: day %v does not start at midnight there", loc, d.Day)
			}
			got := d.Day.In(loc).Format(time.DateOnly)
			if (got == want) != (d.Count == 1) {
				t.Errorf("%s: %s counts %d; want the token (issued %v) on %s only", loc, got, d.Count, ctime, want)
			}
		}
	}
}
