package main

import (
	"testing"
	"time"
)

func TestPercentile_NearestRank(t *testing.T) {
	t.Parallel()
	var ds []time.Duration
	for i := 1; i <= 20; i++ {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	for _, tc := range []struct {
		p    float64
		want time.Duration
	}{{50, 10 * time.Millisecond}, {95, 19 * time.Millisecond}, {99, 20 * time.Millisecond}, {100, 20 * time.Millisecond}, {1, time.Millisecond}} {
		if got := percentile(ds, tc.p); got != tc.want {
			t.Errorf("p%v of 1..20 ms: got %v, want %v", tc.p, got, tc.want)
		}
	}
	if got := percentile([]time.Duration{7}, 99); got != 7 {
		t.Errorf("p99 of one value: got %v, want 7", got)
	}
	if got := percentile(nil, 50); got != 0 {
		t.Errorf("p50 of nothing: got %v, want 0", got)
	}
}

func TestRecorder_CountsOutcomesAndOnlySuccessfulLatencies(t *testing.T) {
	t.Parallel()
	rec := newRecorder(2)
	for i := range 100 {
		rec.record(i%2, true, "201", time.Duration(i+1)*time.Millisecond)
	}
	rec.record(0, false, "503", time.Hour)
	rec.record(1, false, "transport: timeout", time.Hour)
	rec.record(1, false, "503", time.Hour)
	res := rec.summarise("issue", 2, 2*time.Second)
	if res.Requests != 103 || res.OK != 100 || res.Errors != 3 {
		t.Fatalf("got %d requests, %d ok, %d errors; want 103, 100, 3", res.Requests, res.OK, res.Errors)
	}
	if res.Outcomes["201"] != 100 || res.Outcomes["503"] != 2 || res.Outcomes["transport: timeout"] != 1 {
		t.Errorf("got outcomes %v, want 201×100, 503×2, timeout×1", res.Outcomes)
	}
	if res.PerSecond != 50 {
		t.Errorf("got %v ok/s, want 50", res.PerSecond)
	}
	l := res.LatencyMS
	if l.P50 != 50 || l.P95 != 95 || l.P99 != 99 || l.Max != 100 || l.Mean != 50.5 {
		t.Errorf("got latency %+v, want p50 50, p95 95, p99 99, max 100, mean 50.5 (failures excluded)", l)
	}
}

func TestParseAppIDs_ListsAndRanges(t *testing.T) {
	t.Parallel()
	got, err := parseAppIDs("7, 900001-900003")
	if err != nil {
		t.Fatal(err)
	}
	want := []uint32{7, 900001, 900002, 900003}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
	for _, bad := range []string{"", "0", "x", "5-3", "4294967296"} {
		if _, err := parseAppIDs(bad); err == nil {
			t.Errorf("parseAppIDs(%q): got no error, want one", bad)
		}
	}
}

func TestParseTargets_RefusesWhatIsNotAURL(t *testing.T) {
	t.Parallel()
	got, err := parseTargets("http://127.0.0.1:1/, http://127.0.0.1:2")
	if err != nil || len(got) != 2 || got[0] != "http://127.0.0.1:1" {
		t.Fatalf("got %v, %v; want two targets without trailing slash", got, err)
	}
	if _, err := parseTargets("127.0.0.1:8080"); err == nil {
		t.Error("a target without a scheme: got no error, want one")
	}
}
