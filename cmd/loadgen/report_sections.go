package main

import (
	"fmt"
	"io"
	"strings"
)

// seedResult is what `console dev seed --json` prints.
type seedResult struct {
	Events        int     `json:"events"`
	Seal          string  `json:"seal"`
	CopySeconds   float64 `json:"copy_seconds"`
	SealSeconds   float64 `json:"seal_seconds"`
	EventsPerSec  float64 `json:"events_per_second"`
	VacuumSeconds float64 `json:"vacuum_seconds"`
}

func maxHWM(rs []RSS) float64 {
	m := 0.0
	for _, r := range rs {
		m = max(m, r.HWMM, r.SampledMaxM)
	}
	return m
}

func (d reportData) issueSection(w io.Writer, tg *targets) {
	fmt.Fprintf(w, "\n## Token issue API under load\n\n")
	runs := []struct{ file, label string }{
		{"issue-one.json", "API, one console"},
		{"ceiling.json", "DB ceiling (same SQL via pgx)"},
		{"ceiling-auth.json", "DB ceiling + API-key lookup"},
		{"issue-two.json", "API, two consoles (round-robin)"},
	}
	res := map[string]Result{}
	fmt.Fprintf(w, "Fixed concurrency (closed loop), %s per run, after a 2 s warm-up; latency of successful requests; "+
		"load average before the first run: %s. The console keeps running during the ceiling runs, so its sealer "+
		"chains their events as it does the API's.\n\n", d.fact("duration"), d.fact("loadavg_issue"))
	fmt.Fprintf(w, "| run | ok/s | p50 ms | p95 ms | p99 ms | max ms | errors | rows = 201s | console VmHWM MiB |\n|---|---:|---:|---:|---:|---:|---:|---|---:|\n")
	for _, r := range runs {
		var x Result
		if !d.json(r.file, &x) {
			fmt.Fprintf(w, "| %s | not measured | | | | | | | |\n", r.label)
			continue
		}
		res[r.file] = x
		check := "–"
		if x.Check != nil {
			check = fmt.Sprintf("%v (%d records, %d events)", x.Check.OK, x.Check.Records, x.Check.AuditEvents)
		}
		hwm := "–"
		if len(x.RSS) > 0 {
			var parts []string
			for _, r := range x.RSS {
				parts = append(parts, fmt.Sprintf("%.0f", max(r.HWMM, r.SampledMaxM)))
			}
			hwm = strings.Join(parts, " / ")
		}
		errs := fmt.Sprint(x.Errors)
		if x.Errors > 0 {
			errs = fmt.Sprintf("%d %v", x.Errors, x.Outcomes)
		}
		l := x.LatencyMS
		fmt.Fprintf(w, "| %s (c=%d) | %.0f | %.2f | %.2f | %.2f | %.1f | %s | %s | %s |\n",
			r.label, x.Concurrency, x.PerSecond, l.P50, l.P95, l.P99, l.Max, errs, check, hwm)
	}
	one, okOne := res["issue-one.json"]
	ceil, okCeil := res["ceiling.json"]
	if okOne && okCeil && ceil.PerSecond > 0 {
		ratio := one.PerSecond / ceil.PerSecond
		fmt.Fprintf(w, "\nAPI / DB ceiling: **%.0f %%** (%.0f / %.0f ok/s).", 100*ratio, one.PerSecond, ceil.PerSecond)
		if ca, ok := res["ceiling-auth.json"]; ok && ca.PerSecond > 0 {
			fmt.Fprintf(w, " Against the ceiling that includes the API-key lookup every API request makes: %.0f %%.", 100*one.PerSecond/ca.PerSecond)
		}
		fmt.Fprintln(w)
		tg.add("issue API vs DB ceiling", "≥ 60 %", fmt.Sprintf("%.0f %%", 100*ratio), ratio >= 0.6)
	} else {
		tg.missing("issue API vs DB ceiling", "≥ 60 %")
	}
	if two, ok := res["issue-two.json"]; ok && okOne && one.PerSecond > 0 {
		fmt.Fprintf(w, "\nTwo consoles vs one: %.2f× the throughput.\n", two.PerSecond/one.PerSecond)
	}
	if okOne {
		tg.add("issue API p99 at 32 clients", "≤ 50 ms", fmt.Sprintf("%.1f ms", one.LatencyMS.P99), one.LatencyMS.P99 <= 50)
		errs := one.Errors
		checked := one.Check != nil && one.Check.OK
		if two, ok := res["issue-two.json"]; ok {
			errs += two.Errors
			checked = checked && two.Check != nil && two.Check.OK
		}
		tg.add("issue API errors", "0, rows = 201s", fmt.Sprintf("%d errors, rows match: %v", errs, checked), errs == 0 && checked)
		hwm := maxHWM(one.RSS)
		tg.add("console RSS under load", "≤ 150 MB", fmt.Sprintf("%.0f MiB", hwm), hwm > 0 && hwm*1.048576 <= 150)
	} else {
		tg.missing("issue API p99 at 32 clients", "≤ 50 ms")
	}
}

func (d reportData) startupSection(w io.Writer, tg *targets) {
	fmt.Fprintf(w, "\n## Start-up\n\nFrom process start to the first `/readyz` 200 (polled every 2 ms).\n\n")
	fmt.Fprintf(w, "| start | ms |\n|---|---:|\n| first, on a freshly migrated database | %s |\n| second, schema current | %s |\n",
		d.fact("startup_first_ms"), d.fact("startup_ms"))
	if v, ok := d.factFloat("startup_ms"); ok {
		tg.add("start-up to ready", "≤ 1 s", fmt.Sprintf("%.0f ms", v), v <= 1000)
	} else {
		tg.missing("start-up to ready", "≤ 1 s")
	}
}

func (d reportData) auditSection(w io.Writer, tg *targets) {
	fmt.Fprintf(w, "\n## Audit trail\n\n")
	var sample, seed seedResult
	if d.json("seal-sample.json", &sample) && sample.Events > 0 && sample.SealSeconds > 0 {
		rate := float64(sample.Events) / sample.SealSeconds
		target, _ := d.factFloat("events")
		fmt.Fprintf(w, "Normal sealing path (`SealPending`, 1000 events per transaction) on %d freshly COPYed unsealed events: "+
			"copy %.1f s, sealing %.1f s = **%.0f events/s**; sealing %.0f events that way would take about %.0f s.\n\n",
			sample.Events, sample.CopySeconds, sample.SealSeconds, rate, target, target/rate)
	}
	if d.json("seed.json", &seed) && seed.Events > 0 {
		fmt.Fprintf(w, "Seed: `console dev seed --events %d` (COPY with the chain computed in Go by the sealer's canonical hash): "+
			"%.1f s (%.0f events/s), then VACUUM ANALYZE %.1f s. `console audit verify` over the whole chain: %s s (%s).\n\n",
			seed.Events, seed.CopySeconds, seed.EventsPerSec, seed.VacuumSeconds, d.fact("verify_seconds"), d.fact("verify_result"))
	}
	var pages []PageStat
	if !d.json(auditFile, &pages) {
		fmt.Fprintln(w, "Audit pages: not measured.")
		tg.missing("audit pages p95", "≤ 50 ms")
	} else {
		fmt.Fprintf(w, "### Pages\n\nGET /api/v1/audit (100 events a page) with an audit:read key of all %s projects "+
			"(a filter without app_id reads all of them), and the same filter straight through `store.ListAudit` "+
			"(what the UI runs for an auditor of every project). app_id=%s is the big project, with about half the events. "+
			"p95 over up to %s requests; the deep page is reached by following the cursor.\n\n",
			d.fact("projects"), d.fact("audit_app"), d.fact("audit_requests"))
		fmt.Fprintf(w, "| filter | path | events on page 1 | page 1 p50 / p95 ms | deep page | deep p50 / p95 ms | status |\n|---|---|---:|---:|---:|---:|---|\n")
		worst, worstCase := 0.0, ""
		for _, p := range pages {
			fmt.Fprintf(w, "| %s | %s | %d | %.1f / %.1f | %d | %.1f / %.1f | %s |\n", p.Case, p.Path, p.FirstSize,
				p.First.P50, p.First.P95, p.DeepPage, p.Deep.P50, p.Deep.P95, p.Status)
			if p.Path == "api" {
				if m := max(p.First.P95, p.Deep.P95); m > worst {
					worst, worstCase = m, p.Case
				}
			}
		}
		tg.add("audit pages p95 (API, 2M events)", "≤ 50 ms", fmt.Sprintf("worst %.1f ms (%s)", worst, worstCase), worst <= 50)
	}
	d.exportSection(w, tg)
}

func (d reportData) exportSection(w io.Writer, tg *targets) {
	fmt.Fprintf(w, "\n### Export\n\n| format | events | MiB | s | events/s | first byte ms | console RSS start → peak MiB |\n|---|---:|---:|---:|---:|---:|---|\n")
	slowest := -1.0
	growth := 0.0
	for _, format := range []string{"csv", "ndjson"} {
		var e ExportResult
		if !d.json("export-"+format+".json", &e) {
			fmt.Fprintf(w, "| %s | not measured | | | | | |\n", format)
			continue
		}
		mem := "–"
		for _, r := range e.RSS {
			peak := max(r.HWMM, r.SampledMaxM)
			mem = fmt.Sprintf("%.0f → %.0f", r.StartM, peak)
			growth = max(growth, peak-r.StartM)
		}
		fmt.Fprintf(w, "| %s | %d | %.0f | %.1f | %.0f | %.0f | %s |\n", format, e.Events, float64(e.Bytes)/(1<<20),
			e.Seconds, e.EventsPerSec, e.FirstByteMS, mem)
		if slowest < 0 || e.EventsPerSec < slowest {
			slowest = e.EventsPerSec
		}
	}
	if slowest < 0 {
		tg.missing("export", "≥ 100k events/s, flat memory")
		return
	}
	tg.add("export throughput", "≥ 100k events/s", fmt.Sprintf("%.0f events/s (slower format)", slowest), slowest >= 100000)
	tg.add("export memory", "flat", fmt.Sprintf("RSS grew at most %.0f MiB", growth), growth <= 50)
}
