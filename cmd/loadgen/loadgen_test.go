package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/zegocloud-console/console/internal/pgtest"
	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/web"
	"github.com/zegocloud-console/console/internal/web/api"
	"github.com/zegocloud-console/console/internal/web/ui"
)

// masterKey is the master key of the test consoles.
var masterKey = bytes.Repeat([]byte{3}, 32)

// console is a real console (web.New on a store) behind httptest, on its
// own migrated database.
type console struct {
	url, dbURL string
	st         *store.Store
}

func startConsole(t *testing.T) console {
	t.Helper()
	ctx := t.Context()
	dbURL := pgtest.NewURL(t)
	keys, err := store.NewKeyring(masterKey)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, dbURL, keys)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	srv, err := web.New(ctx, st, slog.New(slog.DiscardHandler),
		web.Config{APIRate: 1e6, APIBurst: 1e6}, prometheus.NewRegistry(), ui.New, api.New)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	return console{url: hs.URL, dbURL: dbURL, st: st}
}

// runLoadgen runs the command in-process and returns its stdout.
func runLoadgen(t *testing.T, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if err := run(t.Context(), args, &stdout, &stderr, func(string) string { return "" }); err != nil {
		t.Fatalf("loadgen %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String()
}

func TestLoadgen_IssueRunMatchesRecordsAndAuditEvents(t *testing.T) {
	t.Parallel()
	c := startConsole(t)
	key := runLoadgen(t, "--setup", "--database-url", c.dbURL, "--master-key", base64.StdEncoding.EncodeToString(masterKey),
		"--app-id", "4242", "--scopes", "issue")
	out := runLoadgen(t, "--url", c.url, "--key", strings.TrimSpace(key), "--app-id", "4242", "--database-url", c.dbURL,
		"--requests", "200", "--duration", "0", "--concurrency", "4", "--json", "--strict")
	var res Result
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("output is not a result: %v\n%s", err, out)
	}
	if res.Requests != 200 || res.OK != 200 || res.Errors != 0 || res.Outcomes["201"] != 200 {
		t.Fatalf("got %d requests, %d ok, %d errors (%v); want 200 created, no error", res.Requests, res.OK, res.Errors, res.Outcomes)
	}
	if res.Check == nil || !res.Check.OK || res.Check.Records != 200 || res.Check.AuditEvents != 200 {
		t.Fatalf("got check %+v, want 200 records and 200 token.issue events", res.Check)
	}
	if res.LatencyMS.P50 <= 0 || res.LatencyMS.P99 < res.LatencyMS.P50 || res.LatencyMS.Max < res.LatencyMS.P99 {
		t.Errorf("got latency %+v, want 0 < p50 <= p99 <= max", res.LatencyMS)
	}

	batch := runLoadgen(t, "--url", c.url, "--key", strings.TrimSpace(key), "--app-id", "4242", "--database-url", c.dbURL,
		"--batch", "25", "--requests", "8", "--duration", "0", "--concurrency", "2", "--json", "--strict")
	var br Result
	if err := json.Unmarshal([]byte(batch), &br); err != nil {
		t.Fatal(err)
	}
	if br.OK != 8 || br.TokensPerRequest != 25 || br.Check == nil || !br.Check.OK || br.Check.Records != 200 ||
		br.TokensPerSecond != br.PerSecond*25 {
		t.Fatalf("batch: got %d ok of %d tokens, %v tokens/s, check %+v; want 8 × 25 tokens, each with its record and event",
			br.OK, br.TokensPerRequest, br.TokensPerSecond, br.Check)
	}

	ceil := runLoadgen(t, "--ceiling", "--database-url", c.dbURL, "--app-id", "4242",
		"--requests", "100", "--duration", "0", "--concurrency", "4", "--json")
	var cr Result
	if err := json.Unmarshal([]byte(ceil), &cr); err != nil {
		t.Fatal(err)
	}
	if cr.OK != 100 || cr.Errors != 0 || cr.Check == nil || !cr.Check.OK {
		t.Fatalf("ceiling: got %d ok, %d errors, check %+v; want 100 rows written through the issue SQL", cr.OK, cr.Errors, cr.Check)
	}
	if v, err := c.st.VerifyAuditChain(t.Context()); err != nil || !v.OK {
		// The runs leave the chain intact: their events wait, unsealed, for a sealer.
		t.Fatalf("verify after the runs: %+v, %v", v, err)
	}
}

func TestLoadgen_ReportRendersWhatIsThere(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, content string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(factsFile, "date=2025-01-01\ncommit=abc\nnproc=2\nstartup_ms=120\n")
	write(goBenchFile, "pkg: github.com/zegocloud-console/console/internal/token04\n"+
		"BenchmarkGenerateGCM-2   \t 1000000\t      1500 ns/op\t     900 B/op\t       7 allocs/op\n")
	res, _ := json.Marshal(Result{Mode: "issue", Concurrency: 32, OK: 1000, PerSecond: 700,
		LatencyMS: Latency{P99: 40}, Check: &Check{OK: true, Records: 1000, AuditEvents: 1000}})
	write("issue-one.json", string(res))
	batch, _ := json.Marshal(Result{Mode: "batch", Concurrency: 8, OK: 100, PerSecond: 40, TokensPerRequest: 100,
		Check: &Check{OK: true, Records: 10000, AuditEvents: 10000}})
	write("batch.json", string(batch))
	ceiling, _ := json.Marshal(Result{Mode: "ceiling", Concurrency: 32, OK: 2000, PerSecond: 500})
	write("ceiling.json", string(ceiling))
	var out bytes.Buffer
	if err := writeReport(&out, dir); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| Generate GCM | ≤ 2 µs/op, ≤ 8 allocs/op | 1.50 µs/op, 7 allocs/op | yes |",
		"| start-up to ready | ≤ 1 s | 120 ms | yes |", "| 700 |",
		"| issue API with group commit vs per-commit ceiling | ≥ 1.3× | 1.40× (load ?) | yes |",
		"| batch API vs per-commit ceiling | ≥ 5× | 8.0× (load ?) | yes |",
		"| lone request p50, group commit vs before | not delayed noticeably | not measured |"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
}
