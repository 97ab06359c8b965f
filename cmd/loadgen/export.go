package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// ExportResult is one streamed export of the audit trail.
type ExportResult struct {
	Format       string  `json:"format"`
	Query        string  `json:"query"`
	Events       int64   `json:"events"`
	Bytes        int64   `json:"bytes"`
	FirstByteMS  float64 `json:"first_byte_ms"`
	Seconds      float64 `json:"seconds"`
	EventsPerSec float64 `json:"events_per_second"`
	MiBPerSec    float64 `json:"mib_per_second"`
	RSS          []RSS   `json:"rss,omitempty"`
}

// runExport downloads GET /api/v1/audit/export for one project in format
// (csv or ndjson), counting events as lines (less the CSV header) while
// the console's memory is sampled.
func runExport(ctx context.Context, base, key string, appID uint32, format string, pids []int) (ExportResult, error) {
	q := url.Values{"app_id": {strconv.FormatUint(uint64(appID), 10)}, "format": {format}}
	r := ExportResult{Format: format, Query: q.Encode()}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/v1/audit/export?"+q.Encode(), nil)
	if err != nil {
		return r, err
	}
	req.Header.Set("Authorization", "Bearer "+key)
	client := &http.Client{Transport: &http.Transport{Proxy: nil, DisableCompression: true}}
	sampler := startRSSSampler(pids)
	start := time.Now()
	res, err := client.Do(req)
	if err != nil {
		sampler.finish()
		return r, fmt.Errorf("export: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
		sampler.finish()
		return r, fmt.Errorf("export: HTTP %d: %s", res.StatusCode, bytes.TrimSpace(b))
	}
	buf := make([]byte, 256<<10)
	for {
		n, err := res.Body.Read(buf)
		if n > 0 {
			if r.Bytes == 0 {
				r.FirstByteMS = ms(time.Since(start))
			}
			r.Bytes += int64(n)
			r.Events += int64(bytes.Count(buf[:n], []byte{'\n'}))
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			sampler.finish()
			return r, fmt.Errorf("export: after %d bytes: %w", r.Bytes, err)
		}
	}
	elapsed := time.Since(start)
	r.RSS = sampler.finish()
	if format == "csv" && r.Events > 0 {
		r.Events-- // the header line
	}
	r.Seconds = elapsed.Seconds()
	r.EventsPerSec = float64(r.Events) / r.Seconds
	r.MiBPerSec = float64(r.Bytes) / (1 << 20) / r.Seconds
	return r, nil
}

func (r ExportResult) writeText(w io.Writer) {
	fmt.Fprintf(w, "export %s (%s): %d events, %.1f MiB in %.1f s: %.0f events/s, %.1f MiB/s, first byte after %.0f ms\n",
		r.Format, r.Query, r.Events, float64(r.Bytes)/(1<<20), r.Seconds, r.EventsPerSec, r.MiBPerSec, r.FirstByteMS)
	for _, m := range r.RSS {
		fmt.Fprintf(w, "  console pid %d: RSS max %.1f MiB sampled, VmHWM %.1f MiB (reset before: %v)\n", m.PID, m.SampledMaxM, m.HWMM, m.HWMReset)
	}
}
