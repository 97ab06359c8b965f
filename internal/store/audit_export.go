package store

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// auditExportBatch is how many events ExportAudit reads per query: memory
// stays bounded, and no connection or snapshot is held while a slow client
// reads.
const auditExportBatch = 1000

// ExportAudit calls fn for every event matching f, in ListAudit's order
// (newest first), reading them in keyset batches. It stops at fn's first
// error and returns it unwrapped.
func (s *Store) ExportAudit(ctx context.Context, f AuditFilter, fn func(AuditEvent) error) error {
	var after *AuditCursor
	for {
		batch, err := s.listAudit(ctx, f, after, auditExportBatch)
		if err != nil {
			return fmt.Errorf("store: export audit: %w", err)
		}
		for _, e := range batch {
			if err := fn(e); err != nil {
				return err
			}
		}
		if len(batch) < auditExportBatch {
			return nil
		}
		c := cursorAt(batch[len(batch)-1])
		after = &c
	}
}

// auditJSON is the one JSON shape of an audit event, for the API and NDJSON:
// hashes and fingerprints in hex, times in UTC.
type auditJSON struct {
	ID               int64           `json:"id"`
	OccurredAt       string          `json:"occurred_at"`
	ActorType        string          `json:"actor_type"`
	ActorID          string          `json:"actor_id"`
	ActorName        string          `json:"actor_name"`
	Action           string          `json:"action"`
	Outcome          string          `json:"outcome"`
	AppID            *int64          `json:"app_id"`
	TargetType       string          `json:"target_type"`
	TargetID         string          `json:"target_id"`
	RequestID        string          `json:"request_id"`
	ClientIP         string          `json:"client_ip"`
	UserAgent        string          `json:"user_agent"`
	Details          json.RawMessage `json:"details"`
	TokenFingerprint *string         `json:"token_fingerprint"`
	ChainSeq         *int64          `json:"chain_seq"`
	Hash             *string         `json:"hash"`
}

// MarshalJSON writes the event with hex hashes and fingerprint (null when
// absent) and occurred_at in RFC 3339 UTC.
func (e AuditEvent) MarshalJSON() ([]byte, error) {
	details := e.Details
	if len(details) == 0 {
		details = json.RawMessage(`{}`)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // an outer encoder escapes again if it wants to
	err := enc.Encode(auditJSON{
		ID: e.ID, OccurredAt: e.OccurredAt.UTC().Format(time.RFC3339Nano),
		ActorType: e.ActorType, ActorID: e.ActorID, ActorName: e.ActorName, Action: e.Action, Outcome: e.Outcome,
		AppID: e.AppID, TargetType: e.TargetType, TargetID: e.TargetID, RequestID: e.RequestID,
		ClientIP: e.ClientIP, UserAgent: e.UserAgent, Details: details,
		TokenFingerprint: hexOrNil(e.TokenFingerprint), ChainSeq: e.ChainSeq, Hash: hexOrNil(e.Hash),
	})
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), err
}

func hexOrNil(b []byte) *string {
	if b == nil {
		return nil
	}
	s := hex.EncodeToString(b)
	return &s
}

// AuditEncoder writes events in an export format. Write buffers; Flush
// pushes what is buffered to the writer (call it now and then while
// streaming to a client); Close flushes and finishes, without closing the
// writer.
type AuditEncoder interface {
	Write(AuditEvent) error
	Flush() error
	Close() error
	ContentType() string
}

// Export formats NewAuditEncoder knows.
const (
	AuditFormatCSV    = "csv"
	AuditFormatNDJSON = "ndjson"
)

// NewAuditEncoder returns an encoder for format "csv" (a header line, then
// one row per event) or "ndjson" (one JSON object per line).
func NewAuditEncoder(w io.Writer, format string) (AuditEncoder, error) {
	switch format {
	case AuditFormatCSV:
		cw := csv.NewWriter(w)
		if err := cw.Write(auditCSVHeader); err != nil {
			return nil, fmt.Errorf("store: audit csv: %w", err)
		}
		return &auditCSV{w: cw}, nil
	case AuditFormatNDJSON:
		bw := bufio.NewWriter(w)
		enc := json.NewEncoder(bw)
		enc.SetEscapeHTML(false)
		return &auditNDJSON{w: bw, enc: enc}, nil
	}
	return nil, fmt.Errorf("store: audit export format %q: want csv or ndjson", format)
}

var auditCSVHeader = []string{"id", "occurred_at", "actor_type", "actor_id", "actor_name", "action", "outcome",
	"app_id", "target_type", "target_id", "request_id", "client_ip", "user_agent", "details",
	"token_fingerprint", "chain_seq", "hash"}

type auditCSV struct {
	w   *csv.Writer
	rec []string
}

func (c *auditCSV) Write(e AuditEvent) error {
	c.rec = append(c.rec[:0], strconv.FormatInt(e.ID, 10), e.OccurredAt.UTC().Format(time.RFC3339Nano),
		e.ActorType, e.ActorID, e.ActorName, e.Action, e.Outcome, formatOptInt(e.AppID),
		e.TargetType, e.TargetID, e.RequestID, e.ClientIP, e.UserAgent, string(e.Details),
		hex.EncodeToString(e.TokenFingerprint), formatOptInt(e.ChainSeq), hex.EncodeToString(e.Hash))
	for i, v := range c.rec {
		c.rec[i] = neutraliseFormula(v)
	}
	if err := c.w.Write(c.rec); err != nil {
		return fmt.Errorf("store: audit csv: %w", err)
	}
	return nil
}

func (c *auditCSV) Flush() error {
	c.w.Flush()
	if err := c.w.Error(); err != nil {
		return fmt.Errorf("store: audit csv: %w", err)
	}
	return nil
}

func (c *auditCSV) Close() error        { return c.Flush() }
func (c *auditCSV) ContentType() string { return "text/csv; charset=utf-8" }

func formatOptInt(p *int64) string {
	if p == nil {
		return ""
	}
	return strconv.FormatInt(*p, 10)
}

// neutraliseFormula keeps a spreadsheet from running a cell as a formula
// (CSV injection): a cell that starts with = + - @, a tab or a carriage
// return gets a leading apostrophe.
func neutraliseFormula(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

type auditNDJSON struct {
	w   *bufio.Writer
	enc *json.Encoder
}

func (n *auditNDJSON) Write(e AuditEvent) error {
	if err := n.enc.Encode(e); err != nil {
		return fmt.Errorf("store: audit ndjson: %w", err)
	}
	return nil
}

func (n *auditNDJSON) Flush() error {
	if err := n.w.Flush(); err != nil {
		return fmt.Errorf("store: audit ndjson: %w", err)
	}
	return nil
}

func (n *auditNDJSON) Close() error        { return n.Flush() }
func (n *auditNDJSON) ContentType() string { return "application/x-ndjson" }
