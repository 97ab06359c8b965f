package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// loadOptions say how hard and how long a run drives its target.
type loadOptions struct {
	Concurrency int
	Duration    time.Duration // stop starting requests after this long; 0 = no limit
	Count       int           // stop after this many requests; 0 = no limit
	Timeout     time.Duration // per request
}

// operation performs request number n for worker w and says whether it
// succeeded and how it ended ("201", "500", "transport: timeout", …).
type operation func(ctx context.Context, w int, n int64) (ok bool, outcome string)

// runWorkers runs op from opts.Concurrency goroutines, each starting a new
// request as soon as its previous one ends (fixed concurrency, closed loop),
// until the duration has passed or count requests have started. Requests in
// flight when the duration ends are completed and counted, so that what the
// server committed matches what was counted. It returns the wall time.
func runWorkers(ctx context.Context, opts loadOptions, rec *recorder, op operation) time.Duration {
	var deadline time.Time
	start := time.Now()
	if opts.Duration > 0 {
		deadline = start.Add(opts.Duration)
	}
	var started atomic.Int64
	var wg sync.WaitGroup
	for w := range opts.Concurrency {
		wg.Go(func() {
			for ctx.Err() == nil {
				if !deadline.IsZero() && !time.Now().Before(deadline) {
					return
				}
				n := started.Add(1) - 1
				if opts.Count > 0 && n >= int64(opts.Count) {
					return
				}
				reqCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), opts.Timeout)
				t0 := time.Now()
				ok, outcome := op(reqCtx, w, n)
				rec.record(w, ok, outcome, time.Since(t0))
				cancel()
			}
		})
	}
	wg.Wait()
	return time.Since(start)
}

// newHTTPClient keeps one idle keep-alive connection per worker and target,
// so that the run measures requests, not connection set-up.
func newHTTPClient(concurrency, targets int, timeout time.Duration) *http.Client {
	tr := &http.Transport{
		Proxy:               nil, // loopback only: never through a proxy
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        concurrency * targets,
		MaxIdleConnsPerHost: concurrency,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	return &http.Client{Transport: tr, Timeout: timeout}
}

// issuer issues tokens through POST /api/v1/projects/{appId}/tokens, one
// unique user id (prefix + request number) per request, round-robin over
// its targets.
type issuer struct {
	client  *http.Client
	targets []string
	appID   uint32
	key     string
	prefix  string
}

func (is *issuer) issue(ctx context.Context, _ int, n int64) (bool, string) {
	return is.post(ctx, n, "/tokens", `{"user_id":"`+is.prefix+strconv.FormatInt(n, 10)+`"}`, 1)
}

// issueBatch issues batch tokens per request through
// POST /api/v1/projects/{appId}/tokens/batch, one unique user id each
// (prefix + request number + index); ok only when every token came back.
func (is *issuer) issueBatch(batch int) operation {
	return func(ctx context.Context, _ int, n int64) (bool, string) {
		var body strings.Builder
		body.WriteString(`{"tokens":[`)
		for i := range batch {
			if i > 0 {
				body.WriteByte(',')
			}
			body.WriteString(`{"user_id":"` + is.prefix + strconv.FormatInt(n, 10) + "-" + strconv.Itoa(i) + `"}`)
		}
		body.WriteString(`]}`)
		return is.post(ctx, n, "/tokens/batch", body.String(), batch)
	}
}

// post sends request number n's body to the project's path (round-robin
// over the targets) and says whether it was created with want tokens.
func (is *issuer) post(ctx context.Context, n int64, path, body string, want int) (bool, string) {
	base := is.targets[n%int64(len(is.targets))]
	req, err := http.NewRequestWithContext(ctx, http.MethodPost,
		base+"/api/v1/projects/"+strconv.FormatUint(uint64(is.appID), 10)+path, strings.NewReader(body))
	if err != nil {
		return false, "request: " + err.Error()
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+is.key)
	res, err := is.client.Do(req)
	if err != nil {
		return false, errorClass(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 16<<20))
	if err != nil {
		return false, errorClass(err)
	}
	outcome := strconv.Itoa(res.StatusCode)
	if res.StatusCode != http.StatusCreated {
		return false, outcome
	}
	if got := bytes.Count(b, []byte(`"token":"04`)); got != want {
		return false, outcome + " with " + strconv.Itoa(got) + " tokens"
	}
	return true, outcome
}

// parseTargets splits a comma-separated list of base URLs.
func parseTargets(s string) ([]string, error) {
	var out []string
	for _, t := range strings.Split(s, ",") {
		t = strings.TrimRight(strings.TrimSpace(t), "/")
		if t == "" {
			continue
		}
		if !strings.HasPrefix(t, "http://") && !strings.HasPrefix(t, "https://") {
			return nil, fmt.Errorf("target %q: want a base URL such as http://127.0.0.1:8080", t)
		}
		out = append(out, t)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no target: give --url http://host:port[,http://host2:port]")
	}
	return out, nil
}
