package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/zegocloud-console/console/internal/store"
)

// auditOptions configure the audit browsing measurement.
type auditOptions struct {
	Base        string // console base URL
	Key         string // audit:read API key
	DatabaseURL string // for the same queries straight through the store; "" skips them
	AppID       uint32
	Action      string
	Actor       string
	Text        string
	Requests    int           // timed requests of the first and of the deep page
	Deep        int           // pages to follow to reach the deep page
	Budget      time.Duration // per case and path; a slower case reports fewer samples
}

// auditCase is one filter of the matrix, as URL query parameters.
type auditCase struct {
	Name  string
	Query url.Values
}

func auditCases(o auditOptions, now time.Time) []auditCase {
	app := strconv.FormatUint(uint64(o.AppID), 10)
	q := func(kv ...string) url.Values {
		v := url.Values{}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	from, to := now.AddDate(0, 0, -30).UTC().Format(time.RFC3339), now.AddDate(0, 0, -7).UTC().Format(time.RFC3339)
	return []auditCase{
		{"no filter", q()},
		{"app_id", q("app_id", app)},
		{"action", q("action", o.Action)},
		{"app_id+action", q("app_id", app, "action", o.Action)},
		{"app_id+action+time", q("app_id", app, "action", o.Action, "from", from, "to", to)},
		{"actor", q("actor", o.Actor)},
		{"outcome", q("outcome", store.OutcomeDenied)},
		{"q (free text)", q("q", o.Text)},
	}
}

// PageStat is the measurement of one filter through one path.
type PageStat struct {
	Case      string  `json:"case"`
	Path      string  `json:"path"` // "api" or "store"
	Query     string  `json:"query"`
	Status    string  `json:"status"` // "ok", or why it could not be measured
	FirstSize int     `json:"first_page_events"`
	First     Latency `json:"first_ms"`
	DeepPage  int     `json:"deep_page"` // the page number measured as deep (1 = the first)
	Deep      Latency `json:"deep_ms"`
	Samples   int     `json:"samples"`
}

// pageFunc fetches one page and returns its size and the next cursor.
type pageFunc func(ctx context.Context, q url.Values, cursor string) (int, string, error)

// measurePages times the first page, walks o.Deep pages and times the page
// reached there.
func measurePages(ctx context.Context, o auditOptions, c auditCase, path string, fetch pageFunc) PageStat {
	ps := PageStat{Case: c.Name, Path: path, Query: c.Query.Encode(), Status: "ok"}
	budget := time.Now().Add(o.Budget)
	timed := func(cursor string) ([]time.Duration, int, string, error) {
		var ds []time.Duration
		var size int
		var next string
		for i := 0; i < o.Requests && (i == 0 || time.Now().Before(budget)); i++ {
			t0 := time.Now()
			n, nx, err := fetch(ctx, c.Query, cursor)
			if err != nil {
				return ds, 0, "", err
			}
			ds = append(ds, time.Since(t0))
			size, next = n, nx
		}
		return ds, size, next, nil
	}
	first, size, next, err := timed("")
	if err != nil {
		ps.Status = err.Error()
		return ps
	}
	ps.FirstSize, ps.First, ps.Samples = size, summariseLatency(first), len(first)
	cursor, page := "", 1
	for page < o.Deep && next != "" && time.Now().Before(budget) {
		_, nx, err := fetch(ctx, c.Query, next)
		if err != nil {
			ps.Status = err.Error()
			return ps
		}
		cursor, page, next = next, page+1, nx
	}
	deep, _, _, err := timed(cursor)
	if err != nil {
		ps.Status = err.Error()
		return ps
	}
	ps.DeepPage, ps.Deep = page, summariseLatency(deep)
	ps.Samples = min(ps.Samples, len(deep))
	return ps
}

// apiPages fetches pages from GET /api/v1/audit.
func apiPages(client *http.Client, o auditOptions) pageFunc {
	return func(ctx context.Context, q url.Values, cursor string) (int, string, error) {
		v := url.Values{}
		for k, vs := range q {
			v[k] = vs
		}
		if cursor != "" {
			v.Set("cursor", cursor)
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, o.Base+"/api/v1/audit?"+v.Encode(), nil)
		req.Header.Set("Authorization", "Bearer "+o.Key)
		res, err := client.Do(req)
		if err != nil {
			return 0, "", err
		}
		defer res.Body.Close()
		if res.StatusCode != http.StatusOK {
			var p struct {
				Detail string            `json:"detail"`
				Errors map[string]string `json:"errors"`
			}
			_ = json.NewDecoder(io.LimitReader(res.Body, 1<<16)).Decode(&p)
			return 0, "", fmt.Errorf("HTTP %d: %s %v", res.StatusCode, p.Detail, p.Errors)
		}
		var page struct {
			Events []json.RawMessage `json:"events"`
			Next   string            `json:"next"`
		}
		if err := json.NewDecoder(res.Body).Decode(&page); err != nil {
			return 0, "", err
		}
		return len(page.Events), page.Next, nil
	}
}

// storePages runs the same queries through store.ListAudit, as the UI's
// audit page does for an auditor who sees every project.
func storePages(st *store.Store, limit int) pageFunc {
	return func(ctx context.Context, q url.Values, cursor string) (int, string, error) {
		f, err := store.ParseAuditFilter(q)
		if err != nil {
			return 0, "", err
		}
		page, err := st.ListAudit(ctx, f, cursor, limit)
		if err != nil {
			return 0, "", err
		}
		return len(page.Events), page.Next, nil
	}
}

// runAuditPages measures every case through the API and, given a database
// URL, straight through the store.
func runAuditPages(ctx context.Context, o auditOptions, progress io.Writer) ([]PageStat, error) {
	client := newHTTPClient(1, 1, time.Minute)
	var st *store.Store
	if o.DatabaseURL != "" {
		pool, err := pgxpool.New(ctx, o.DatabaseURL)
		if err != nil {
			return nil, fmt.Errorf("audit: %w", err)
		}
		defer pool.Close()
		st = store.New(pool, nil)
	}
	var out []PageStat
	for _, c := range auditCases(o, time.Now()) {
		ps := measurePages(ctx, o, c, "api", apiPages(client, o))
		fmt.Fprintf(progress, "  api   %-20s first p95 %7.1f ms, page %2d p95 %7.1f ms  %s\n", c.Name, ps.First.P95, ps.DeepPage, ps.Deep.P95, ps.Status)
		out = append(out, ps)
		if st != nil {
			ps := measurePages(ctx, o, c, "store", storePages(st, 100))
			fmt.Fprintf(progress, "  store %-20s first p95 %7.1f ms, page %2d p95 %7.1f ms  %s\n", c.Name, ps.First.P95, ps.DeepPage, ps.Deep.P95, ps.Status)
			out = append(out, ps)
		}
	}
	return out, nil
}
