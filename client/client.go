// Package client is the Go client of the ZEGO Token Console's API for
// backend services: typed calls to issue, read, revoke and introspect tokens
// and to read the audit trail; problems as *Error; retries of 429 and 503
// that honour Retry-After; and RevocationCache, which follows the console's
// revocation feed so that a service can refuse a revoked token without a
// network call. It uses the standard library only.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Client calls one console with one API key. It is safe for concurrent use.
type Client struct {
	base       string // without a trailing slash
	key        string
	http       *http.Client
	retries    int
	maxWait    time.Duration
	sleep      func(ctx context.Context, d time.Duration) error
	userAgent  string
	firstRetry time.Duration
}

// Option changes a Client made by New.
type Option func(*Client)

// WithHTTPClient makes the requests with h (its Timeout must be longer than
// the feed's long polls, 30 s by default; http.DefaultClient has none).
func WithHTTPClient(h *http.Client) Option { return func(c *Client) { c.http = h } }

// WithRetries sets how many times a request answered 429 or 503 is sent
// again (3 by default; 0 never).
func WithRetries(n int) Option { return func(c *Client) { c.retries = max(n, 0) } }

// WithMaxRetryWait caps each wait before a retry, whatever Retry-After
// asks (30 s by default); a longer Retry-After returns the error instead.
func WithMaxRetryWait(d time.Duration) Option { return func(c *Client) { c.maxWait = d } }

// WithUserAgent names the service in the console's audit trail.
func WithUserAgent(ua string) Option { return func(c *Client) { c.userAgent = ua } }

// New makes a client of the console at baseURL (such as
// https://console.example.com) that authenticates with apiKey.
func New(baseURL, apiKey string, opts ...Option) *Client {
	c := &Client{base: strings.TrimRight(baseURL, "/"), key: apiKey, http: http.DefaultClient, retries: 3,
		maxWait: 30 * time.Second, sleep: sleepCtx, userAgent: "zego-console-go-client", firstRetry: 500 * time.Millisecond}
	for _, o := range opts {
		o(c)
	}
	return c
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Error is a problem the console answered (RFC 9457 problem details), or an
// HTTP error of something in between that answered without one.
type Error struct {
	Type      string            `json:"type"`   // a stable URN such as urn:zego-console:problem:validation
	Title     string            `json:"title"`  // the status text
	Status    int               `json:"status"` // the HTTP status
	Detail    string            `json:"detail"` // what happened, for people
	Instance  string            `json:"instance"`
	RequestID string            `json:"request_id"`       // quote it to the console's admin
	Errors    map[string]string `json:"errors,omitempty"` // invalid fields and why
	// RetryAfter is what the Retry-After header asked for, if anything.
	RetryAfter time.Duration `json:"-"`
}

// Error says what the problem is and, for invalid fields, which.
func (e *Error) Error() string {
	msg := fmt.Sprintf("console: %d %s", e.Status, e.Detail)
	if e.Detail == "" {
		msg = fmt.Sprintf("console: %d %s", e.Status, e.Title)
	}
	if len(e.Errors) > 0 {
		fields := make([]string, 0, len(e.Errors))
		for f, why := range e.Errors {
			fields = append(fields, f+": "+why)
		}
		slices.Sort(fields)
		msg += " (" + strings.Join(fields, "; ") + ")"
	}
	return msg
}

// ProblemPrefix starts every problem type of the console.
const ProblemPrefix = "urn:zego-console:problem:"

// Kinds of problem, the last part of Error.Type, that callers act on.
const (
	KindValidation   = "validation"   // 422: see Error.Errors
	KindUnauthorized = "unauthorized" // 401: the API key is missing, invalid, revoked or expired
	KindForbidden    = "forbidden"    // 403: the key may not do this, or not in this project
	KindNotFound     = "not-found"    // 404
	KindRateLimited  = "rate-limited" // 429: past the key's rate; see RetryAfter
	KindUnavailable  = "unavailable"  // 503: nothing was changed; retry later
	KindCursorGone   = "cursor-gone"  // 410 from the feed: load the snapshot again
)

// Kind is the last part of the problem type ("validation"), "" for an
// HTTP error without a problem.
func (e *Error) Kind() string { return strings.TrimPrefix(e.Type, ProblemPrefix) }

// IsKind tells whether err is an *Error of that kind.
func IsKind(err error, kind string) bool {
	var e *Error
	return errors.As(err, &e) && e.Kind() == kind
}

// call sends one request (again, for 429 and 503, up to the client's
// retries) and decodes a 2xx JSON answer into out, unless out is nil.
func (c *Client) call(ctx context.Context, method, path string, query url.Values, body, out any) error {
	res, err := c.send(ctx, method, path, query, body)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if out == nil {
		_, _ = io.Copy(io.Discard, res.Body)
		return nil
	}
	if err := json.NewDecoder(res.Body).Decode(out); err != nil {
		return fmt.Errorf("console: %s %s: decode answer: %w", method, path, err)
	}
	return nil
}

// send sends a request, retrying 429 and 503, and returns a 2xx response
// with its body unread; any other status is returned as *Error.
func (c *Client) send(ctx context.Context, method, path string, query url.Values, body any) (*http.Response, error) {
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return nil, fmt.Errorf("console: %s %s: %w", method, path, err)
		}
	}
	target := c.base + path
	if len(query) > 0 {
		target += "?" + query.Encode()
	}
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, method, target, bytes.NewReader(payload))
		if err != nil {
			return nil, fmt.Errorf("console: %w", err)
		}
		req.Header.Set("Authorization", "Bearer "+c.key)
		req.Header.Set("Accept", "application/json")
		req.Header.Set("User-Agent", c.userAgent)
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		res, err := c.http.Do(req)
		if err != nil {
			return nil, fmt.Errorf("console: %s %s: %w", method, path, err)
		}
		if res.StatusCode >= 200 && res.StatusCode < 300 {
			return res, nil
		}
		perr := problemOf(res)
		res.Body.Close()
		if (perr.Status != http.StatusTooManyRequests && perr.Status != http.StatusServiceUnavailable) || attempt >= c.retries {
			return nil, perr
		}
		wait := perr.RetryAfter
		if wait == 0 {
			wait = c.firstRetry << attempt
		}
		if wait > c.maxWait {
			return nil, perr
		}
		if err := c.sleep(ctx, wait); err != nil {
			return nil, perr
		}
	}
}

// problemOf reads a non-2xx answer as an *Error.
func problemOf(res *http.Response) *Error {
	e := &Error{}
	data, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	if !strings.HasPrefix(res.Header.Get("Content-Type"), "application/problem+json") || json.Unmarshal(data, e) != nil {
		e = &Error{Detail: strings.TrimSpace(string(data))}
		if len(e.Detail) > 200 {
			e.Detail = e.Detail[:200]
		}
	}
	e.Status, e.Title = res.StatusCode, http.StatusText(res.StatusCode)
	if s, err := strconv.Atoi(res.Header.Get("Retry-After")); err == nil && s >= 0 {
		e.RetryAfter = time.Duration(s) * time.Second
	}
	return e
}
