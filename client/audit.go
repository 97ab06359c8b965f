package client

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// AuditQuery filters the audit trail; zero fields do not filter.
type AuditQuery struct {
	AppID       uint32    // one project; 0: every project of the key
	Actor       string    // an actor's name, exactly
	Action      string    // "token.issue", or a prefix "token.*"
	Outcome     string    // "success", "denied", "error"
	From, To    time.Time // occurred at or after From, before To
	Text        string    // free text, 3 characters or more
	Fingerprint string    // the SHA-256 of a token, hex
}

func (q AuditQuery) values() url.Values {
	v := url.Values{}
	set := func(k, s string) {
		if s != "" {
			v.Set(k, s)
		}
	}
	if q.AppID != 0 {
		v.Set("app_id", strconv.FormatUint(uint64(q.AppID), 10))
	}
	set("actor", q.Actor)
	set("action", q.Action)
	set("outcome", q.Outcome)
	if !q.From.IsZero() {
		v.Set("from", q.From.UTC().Format(time.RFC3339))
	}
	if !q.To.IsZero() {
		v.Set("to", q.To.UTC().Format(time.RFC3339))
	}
	set("q", q.Text)
	set("fingerprint", q.Fingerprint)
	return v
}

// AuditEvent is one event of the audit trail.
type AuditEvent struct {
	ID               int64           `json:"id"`
	OccurredAt       time.Time       `json:"occurred_at"`
	ActorType        string          `json:"actor_type"`
	ActorID          string          `json:"actor_id"`
	ActorName        string          `json:"actor_name"`
	Action           string          `json:"action"`
	Outcome          string          `json:"outcome"`
	AppID            *uint32         `json:"app_id"`
	TargetType       string          `json:"target_type"`
	TargetID         string          `json:"target_id"`
	RequestID        string          `json:"request_id"`
	ClientIP         string          `json:"client_ip"`
	UserAgent        string          `json:"user_agent"`
	Details          json.RawMessage `json:"details"`
	TokenFingerprint *string         `json:"token_fingerprint"`
	ChainSeq         *int64          `json:"chain_seq"` // nil until sealed into the hash chain
	Hash             *string         `json:"hash"`
}

// AuditPage is one page of events, newest first.
type AuditPage struct {
	Events []AuditEvent `json:"events"`
	Next   string       `json:"next,omitempty"` // pass to the next call; "" on the last page
}

// Audit reads one page of the audit trail of the key's projects: limit
// events (0: the console's default, 100), after cursor ("" for the first).
func (c *Client) Audit(ctx context.Context, q AuditQuery, cursor string, limit int) (*AuditPage, error) {
	v := q.values()
	if cursor != "" {
		v.Set("cursor", cursor)
	}
	if limit > 0 {
		v.Set("limit", strconv.Itoa(limit))
	}
	var out AuditPage
	if err := c.call(ctx, http.MethodGet, "/api/v1/audit", v, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ExportAudit streams every event matching q, newest first, to fn, one at a
// time and without holding them all; an error of fn stops the stream and is
// returned. The console audits the export before it sends the first event.
func (c *Client) ExportAudit(ctx context.Context, q AuditQuery, fn func(AuditEvent) error) error {
	v := q.values()
	v.Set("format", "ndjson")
	res, err := c.send(ctx, http.MethodGet, "/api/v1/audit/export", v, nil)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	return eachLine(res.Body, func(line []byte) error {
		var e AuditEvent
		if err := json.Unmarshal(line, &e); err != nil {
			return fmt.Errorf("console: audit export: %w", err)
		}
		return fn(e)
	})
}

// ExportAuditCSV copies the CSV export of the events matching q to w.
func (c *Client) ExportAuditCSV(ctx context.Context, q AuditQuery, w io.Writer) (int64, error) {
	v := q.values()
	v.Set("format", "csv")
	res, err := c.send(ctx, http.MethodGet, "/api/v1/audit/export", v, nil)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	n, err := io.Copy(w, res.Body)
	if err != nil {
		return n, fmt.Errorf("console: audit export: %w", err)
	}
	return n, nil
}

// eachLine calls fn with each non-empty line of an NDJSON stream.
func eachLine(r io.Reader, fn func([]byte) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		if len(sc.Bytes()) == 0 {
			continue
		}
		if err := fn(sc.Bytes()); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("console: read stream: %w", err)
	}
	return nil
}
