package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strings"
	"time"
)

// recorder collects the outcome and latency of every request of a run. Each
// worker records into its own shard, so recording takes no shared lock.
type recorder struct {
	shards []shard
}

type shard struct {
	ok        int
	latencies []time.Duration // of successful requests
	outcomes  map[string]int  // "201", "503", "transport: timeout", …
	_         [64]byte        // keep shards on separate cache lines
}

func newRecorder(workers int) *recorder {
	r := &recorder{shards: make([]shard, workers)}
	for i := range r.shards {
		r.shards[i].outcomes = map[string]int{}
	}
	return r
}

// record notes one request of worker w: ok when it succeeded (its latency
// then counts), outcome names the status or error either way.
func (r *recorder) record(w int, ok bool, outcome string, d time.Duration) {
	s := &r.shards[w]
	s.outcomes[outcome]++
	if ok {
		s.ok++
		s.latencies = append(s.latencies, d)
	}
}

// Result is the summary of one run, printed as text or JSON.
type Result struct {
	Mode        string         `json:"mode"`
	Targets     []string       `json:"targets,omitempty"`
	Concurrency int            `json:"concurrency"`
	Seconds     float64        `json:"seconds"`
	Requests    int            `json:"requests"`
	OK          int            `json:"ok"`
	Errors      int            `json:"errors"`
	Outcomes    map[string]int `json:"outcomes"`
	PerSecond   float64        `json:"per_second"`
	// TokensPerRequest is 1 but for a batch run, whose requests issue
	// that many each; TokensPerSecond counts tokens.
	TokensPerRequest int     `json:"tokens_per_request"`
	TokensPerSecond  float64 `json:"tokens_per_second"`
	LatencyMS        Latency `json:"latency_ms"`
	Check            *Check  `json:"check,omitempty"`
	RSS              []RSS   `json:"rss,omitempty"`
}

// Latency summarises successful requests in milliseconds.
type Latency struct {
	P50  float64 `json:"p50"`
	P95  float64 `json:"p95"`
	P99  float64 `json:"p99"`
	Max  float64 `json:"max"`
	Mean float64 `json:"mean"`
}

// summarise merges the shards into a Result over elapsed wall time.
func (r *recorder) summarise(mode string, concurrency int, elapsed time.Duration) Result {
	res := Result{Mode: mode, Concurrency: concurrency, Seconds: elapsed.Seconds(), Outcomes: map[string]int{}}
	var all []time.Duration
	for i := range r.shards {
		s := &r.shards[i]
		res.OK += s.ok
		all = append(all, s.latencies...)
		for k, n := range s.outcomes {
			res.Outcomes[k] += n
			res.Requests += n
		}
	}
	res.Errors = res.Requests - res.OK
	if elapsed > 0 {
		res.PerSecond = float64(res.OK) / elapsed.Seconds()
	}
	res.LatencyMS = summariseLatency(all)
	return res
}

// summariseLatency sorts ds in place and reads its percentiles.
func summariseLatency(ds []time.Duration) Latency {
	if len(ds) == 0 {
		return Latency{}
	}
	slices.Sort(ds)
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	return Latency{P50: ms(percentile(ds, 50)), P95: ms(percentile(ds, 95)), P99: ms(percentile(ds, 99)),
		Max: ms(ds[len(ds)-1]), Mean: ms(sum / time.Duration(len(ds)))}
}

// percentile returns the nearest-rank p-th percentile of sorted ds: the
// smallest value that at least p % of the values do not exceed.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p * float64(len(sorted)) / 100))
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// writeText prints the result for people.
func (res Result) writeText(w io.Writer) {
	fmt.Fprintf(w, "%s: %d requests in %.1f s at concurrency %d", res.Mode, res.Requests, res.Seconds, res.Concurrency)
	if len(res.Targets) > 0 {
		fmt.Fprintf(w, " against %s", strings.Join(res.Targets, ", "))
	}
	fmt.Fprintf(w, "\n  throughput  %.0f ok/s (%d ok, %d errors)", res.PerSecond, res.OK, res.Errors)
	if res.TokensPerRequest > 1 {
		fmt.Fprintf(w, ", %.0f tokens/s (%d per request)", res.TokensPerSecond, res.TokensPerRequest)
	}
	fmt.Fprintln(w)
	l := res.LatencyMS
	fmt.Fprintf(w, "  latency     p50 %.2f ms  p95 %.2f ms  p99 %.2f ms  max %.2f ms  mean %.2f ms\n", l.P50, l.P95, l.P99, l.Max, l.Mean)
	keys := make([]string, 0, len(res.Outcomes))
	for k := range res.Outcomes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	fmt.Fprint(w, "  outcomes   ")
	for _, k := range keys {
		fmt.Fprintf(w, " %s×%d", k, res.Outcomes[k])
	}
	fmt.Fprintln(w)
	for _, r := range res.RSS {
		fmt.Fprintf(w, "  console     pid %d: RSS max %.1f MiB sampled, VmHWM %.1f MiB\n", r.PID, r.SampledMaxM, r.HWMM)
	}
	if c := res.Check; c != nil {
		verdict := "OK"
		if !c.OK {
			verdict = "MISMATCH"
		}
		fmt.Fprintf(w, "  check       %s: %d token records and %d token.issue events for %d successes (user_id prefix %q)\n",
			verdict, c.Records, c.AuditEvents, res.OK, c.Prefix)
	}
}

// errorClass names a transport error briefly, for the outcome counts.
func errorClass(err error) string {
	msg := err.Error()
	for _, k := range []string{"timeout", "deadline exceeded", "connection refused", "connection reset", "EOF", "broken pipe"} {
		if strings.Contains(msg, k) {
			return "transport: " + k
		}
	}
	return "transport: other"
}
