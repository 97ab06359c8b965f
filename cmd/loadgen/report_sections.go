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
	IndexSeconds  float64 `json:"index_seconds"`
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
	runs := []struct{ file, label, load string }{
		{"issue-one.json", "API, one console (group commit)", "loadavg_issue"},
		{"issue-before.json", "API, one console before (each token its own commit, key looked up per request)", "loadavg_before"},
		{"issue-lone.json", "API, one client (group commit)", "loadavg_lone"},
		{"issue-lone-before.json", "API, one client before", "loadavg_lone"},
		{"ceiling.json", "DB ceiling: the same SQL via pgx, each token its own commit", "loadavg_ceiling"},
		{"ceiling-auth.json", "DB ceiling + API-key lookup", "loadavg_ceiling"},
		{"batch.json", "batch API", "loadavg_batch"},
		{"issue-two.json", "API, two consoles (round-robin)", "loadavg_two"},
	}
	res := map[string]Result{}
	fmt.Fprintf(w, "Fixed concurrency (closed loop), %s per run, after a 2 s warm-up; latency of successful requests; "+
		"the load average (1, 5, 15 min) beside each run was read just before it. The console keeps running during the "+
		"ceiling runs, so its sealer chains their events as it does the API's. Each run starts once the sealer and the text "+
		"indexer have caught up with the runs before it (waited: %s), so that no run pays for another's backlog.\n\n", d.fact("duration"), settled(d))
	fmt.Fprintf(w, "| run | load | ok/s | tokens/s | p50 ms | p95 ms | p99 ms | max ms | errors | rows = tokens answered | console VmHWM MiB |\n"+
		"|---|---|---:|---:|---:|---:|---:|---:|---:|---|---:|\n")
	for _, r := range runs {
		var x Result
		if !d.json(r.file, &x) {
			fmt.Fprintf(w, "| %s | | not measured | | | | | | | | |\n", r.label)
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
		load := ""
		if r.load != "" {
			load = d.fact(r.load)
		}
		l := x.LatencyMS
		fmt.Fprintf(w, "| %s (c=%d) | %s | %.0f | %.0f | %.2f | %.2f | %.2f | %.1f | %s | %s | %s |\n",
			r.label, x.Concurrency, load, x.PerSecond, tokensPerSecond(x), l.P50, l.P95, l.P99, l.Max, errs, check, hwm)
	}
	d.issueTargets(w, tg, res)
	d.revokeTarget(w, tg)
}

// tokensPerSecond is what a run issued per second: its ok/s, times the
// tokens of each request for a batch run.
func tokensPerSecond(x Result) float64 {
	return x.PerSecond * float64(max(x.TokensPerRequest, 1))
}

// issueTargets compares the issue runs with the targets of issue 15.
func (d reportData) issueTargets(w io.Writer, tg *targets, res map[string]Result) {
	one, okOne := res["issue-one.json"]
	ceil, okCeil := res["ceiling.json"]
	if okOne && okCeil && ceil.PerSecond > 0 {
		ratio := one.PerSecond / ceil.PerSecond
		fmt.Fprintf(w, "\nAPI with group commit / per-commit DB ceiling: **%.2f×** (%.0f / %.0f ok/s).", ratio, one.PerSecond, ceil.PerSecond)
		if before, ok := res["issue-before.json"]; ok && before.PerSecond > 0 {
			fmt.Fprintf(w, " The console before, in the same run: %.2f× the ceiling; group commit gives %.2f× its throughput.",
				before.PerSecond/ceil.PerSecond, one.PerSecond/before.PerSecond)
		}
		fmt.Fprintln(w)
		tg.add("issue API with group commit vs per-commit ceiling", "≥ 1.3×", fmt.Sprintf("%.2f× (load %s)", ratio, d.fact("loadavg_issue")), ratio >= 1.3)
	} else {
		tg.missing("issue API with group commit vs per-commit ceiling", "≥ 1.3×")
	}
	if b, ok := res["batch.json"]; ok && okCeil && ceil.PerSecond > 0 {
		ratio := tokensPerSecond(b) / ceil.PerSecond
		fmt.Fprintf(w, "\nBatch API (%d tokens a request) / per-commit DB ceiling: **%.1f×** (%.0f / %.0f tokens/s).\n",
			b.TokensPerRequest, ratio, tokensPerSecond(b), ceil.PerSecond)
		tg.add("batch API vs per-commit ceiling", "≥ 5×", fmt.Sprintf("%.1f× (load %s)", ratio, d.fact("loadavg_batch")), ratio >= 5)
		checked := b.Check != nil && b.Check.OK
		tg.add("batch API rows", "records = events = tokens answered", fmt.Sprintf("%d errors, rows match: %v", b.Errors, checked), b.Errors == 0 && checked)
	} else {
		tg.missing("batch API vs per-commit ceiling", "≥ 5×")
	}
	lone, okLone := res["issue-lone.json"]
	loneBefore, okLoneBefore := res["issue-lone-before.json"]
	if okLone && okLoneBefore {
		delay := lone.LatencyMS.P50 - loneBefore.LatencyMS.P50
		fmt.Fprintf(w, "\nOne client: p50 %.2f ms with group commit, %.2f ms before (%+.2f ms).\n", lone.LatencyMS.P50, loneBefore.LatencyMS.P50, delay)
		tg.add("lone request p50, group commit vs before", "not delayed noticeably (≤ +1 ms)",
			fmt.Sprintf("%.2f vs %.2f ms (load %s)", lone.LatencyMS.P50, loneBefore.LatencyMS.P50, d.fact("loadavg_lone")), delay <= 1)
	} else {
		tg.missing("lone request p50, group commit vs before", "not delayed noticeably")
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
		tg.add("issue API errors", "0, records = events = 201s", fmt.Sprintf("%d errors, rows match: %v", errs, checked), errs == 0 && checked)
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
		fmt.Fprintf(w, "Normal sealing path (`SealPending`, 1000 events per transaction) on %d freshly COPYed unsealed events "+
			"(load %s): copy %.1f s, sealing %.1f s = **%.0f events/s**; sealing %.0f events that way would take about %.0f s.",
			sample.Events, d.fact("loadavg_seal"), sample.CopySeconds, sample.SealSeconds, rate, target, target/rate)
		if sample.IndexSeconds > 0 {
			fmt.Fprintf(w, " The text indexer, which runs beside the sealer, made them searchable in %.1f s (%.0f events/s).",
				sample.IndexSeconds, float64(sample.Events)/sample.IndexSeconds)
		}
		fmt.Fprintf(w, "\n\n")
		tg.add("sealer", "≥ 20,000 events/s", fmt.Sprintf("%.0f events/s (load %s)", rate, d.fact("loadavg_seal")), rate >= 20000)
	} else {
		tg.missing("sealer", "≥ 20,000 events/s")
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
		// The free-text case is judged on its own: within its window (the
		// last 31 days), ≤ 50 ms; every indexed filter ≤ 20 ms.
		worst, worstCase, text := 0.0, "", -1.0
		for _, p := range pages {
			fmt.Fprintf(w, "| %s | %s | %d | %.1f / %.1f | %d | %.1f / %.1f | %s |\n", p.Case, p.Path, p.FirstSize,
				p.First.P50, p.First.P95, p.DeepPage, p.Deep.P50, p.Deep.P95, p.Status)
			if p.Path != "api" {
				continue
			}
			m := max(p.First.P95, p.Deep.P95)
			if strings.HasPrefix(p.Case, "q ") {
				text = max(text, m)
			} else if m > worst {
				worst, worstCase = m, p.Case
			}
		}
		size := d.fact("events")
		tg.add("audit pages p95, indexed filters (API, "+size+" events; the target is at 20 M)", "≤ 20 ms",
			fmt.Sprintf("worst %.1f ms (%s; load %s)", worst, worstCase, d.fact("loadavg_audit")), worst <= 20)
		if text >= 0 {
			tg.add("audit pages p95, free text in its 31-day window (API, "+size+" events)", "≤ 50 ms",
				fmt.Sprintf("%.1f ms", text), text <= 50)
		} else {
			tg.missing("audit pages p95, free text in its window", "≤ 50 ms")
		}
	}
	d.exportSection(w, tg)
	d.pruneSection(w, tg)
}

func (d reportData) exportSection(w io.Writer, tg *targets) {
	fmt.Fprintf(w, "\n### Export\n\nAfter one export that is not measured (the first read of the trail's rows after the seed comes from a cold cache).\n\n| format | events | MiB | s | events/s | first byte ms | console RSS start → peak MiB |\n|---|---:|---:|---:|---:|---:|---|\n")
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
		tg.missing("export", "≥ 150k events/s, flat memory")
		return
	}
	tg.add("export throughput", "≥ 150k events/s", fmt.Sprintf("%.0f events/s (slower format; load %s)", slowest, d.fact("loadavg_export")), slowest >= 150000)
	tg.add("export memory", "flat", fmt.Sprintf("RSS grew at most %.0f MiB", growth), growth <= 50)
}

// pruneSection reports pruning a month of seeded events by dropping its
// partitions (scripts/bench.sh, part prune).
func (d reportData) pruneSection(w io.Writer, tg *targets) {
	fmt.Fprintf(w, "\n### Retention\n\n")
	secs, ok := d.factFloat("prune_seconds")
	if !ok {
		fmt.Fprintln(w, "Not measured.")
		tg.missing("prune a month of ≥ 1 M events", "≤ 1 s, verify passing after")
		return
	}
	verifyBefore, _ := d.factFloat("prune_verify_seconds")
	fmt.Fprintf(w, "`console dev seed --events %s --days 27 --end <the 1st of this month>` in a database of its own, then "+
		"`console audit prune --before <the 1st of this month> --yes` (load %s): %s. Months dropped as partitions: %s. "+
		"The prune verifies the whole chain first (%.2f s), then prunes in one transaction, the trail locked: **%.3f s**; "+
		"the dropped months' tables are dropped after it, the trail no longer locked: %s s; %s s in all. "+
		"`console audit verify` afterwards: %s.\n",
		d.fact("prune_events"), d.fact("loadavg_prune"), d.fact("prune_result"), d.fact("prune_months"), verifyBefore, secs,
		d.fact("prune_drop_seconds"), d.fact("prune_wall_seconds"), d.fact("prune_verify_after"))
	events, _ := d.factFloat("prune_events")
	verified := strings.HasPrefix(d.fact("prune_verify_after"), "audit trail intact")
	tg.add("prune a month of ≥ 1 M events (partition drop)", "≤ 1 s, verify passing after",
		fmt.Sprintf("%.0f events: %.3f s in the prune's transaction (+ %.2f s verifying first); verify after: %v", events, secs, verifyBefore, verified),
		events >= 1e6 && secs <= 1 && verified)
}

// revokeTarget reports how long the second console accepted a revoked key.
func (d reportData) revokeTarget(w io.Writer, tg *targets) {
	var r struct {
		RefusedAfterMS float64 `json:"refused_after_ms"`
		Accepted       int64   `json:"accepted_after_revoke"`
	}
	if !d.json("revoke.json", &r) {
		tg.missing("revoked API key refused by a second instance", "≤ 1 s")
		return
	}
	fmt.Fprintf(w, "\nA key revoked in the database while the second console had it cached: that console refused it %.1f ms after the "+
		"revocation committed (LISTEN/NOTIFY), %d requests accepted meanwhile.\n", r.RefusedAfterMS, r.Accepted)
	tg.add("revoked API key refused by a second instance", "≤ 1 s", fmt.Sprintf("%.1f ms", r.RefusedAfterMS), r.RefusedAfterMS <= 1000)
}

// settled lists the waits for the sealer and text indexer before each run.
func settled(d reportData) string {
	var parts []string
	for _, run := range []string{"issue", "before", "lone", "ceiling", "batch", "two"} {
		if v, ok := d.facts["settle_"+run]; ok { // fact says "?" for a wait not recorded
			parts = append(parts, run+" "+v+" s")
		}
	}
	if len(parts) == 0 {
		return "not recorded"
	}
	return strings.Join(parts, ", ")
}
