package store

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// auditExportBatch is how many events ExportAudit reads per query: memory
// stays bounded (two batches), and no connection or snapshot is held while a
// slow client reads. With 1,000 a query, its planning and round trips were
// a fifth of an export's time.
const auditExportBatch = 4000

// auditExportBuffer is the size of an encoder's buffer: a few hundred events
// a write to the client rather than a few.
const auditExportBuffer = 64 << 10

// ExportAudit calls fn for every event matching f, in ListAudit's order
// (newest first), reading them in keyset batches. Each batch may take at
// most batchTimeout to read (the free-text search's limit, 3 s by default,
// when 0); past it the export stops with ErrAuditTooSlow, so that a filter
// that cannot use an index does not rescan the table batch after batch. It
// stops at fn's first error and returns it unwrapped.
func (s *Store) ExportAudit(ctx context.Context, f AuditFilter, batchTimeout time.Duration, fn func(AuditEvent) error) error {
	if batchTimeout <= 0 {
		batchTimeout = s.auditTextTimeout
	}
	// The next batch is read while this one is written: the database and
	// the encoder work at once instead of in turns. Two batches' arrays
	// take turns, so memory stays at two batches whatever the export's size.
	ctx, cancel := context.WithCancel(ctx)
	type batch struct {
		events []AuditEvent
		err    error
	}
	full, free := make(chan batch), make(chan []AuditEvent, 2)
	free <- make([]AuditEvent, 0, auditExportBatch)
	free <- make([]AuditEvent, 0, auditExportBatch)
	read := make(chan struct{})
	go func() {
		defer close(read)
		defer close(full)
		var after *AuditCursor
		for {
			var events []AuditEvent
			select {
			case events = <-free:
			case <-ctx.Done():
				return
			}
			events, err := s.readAuditWithin(ctx, batchTimeout, f, after, auditExportBatch, events[:0], true)
			last := len(events) < auditExportBatch || err != nil
			if !last {
				c := cursorAt(events[len(events)-1], f)
				after = &c
			}
			select {
			case full <- batch{events, err}:
			case <-ctx.Done():
				return
			}
			if last {
				return
			}
		}
	}()
	defer func() {
		cancel()
		<-read // the reader is done with the pool before the export returns
	}()
	for b := range full {
		if b.err == nil {
			b.err = ctx.Err() // the client went away: not a batch more
		}
		if b.err != nil {
			return fmt.Errorf("store: export audit: %w", b.err)
		}
		for _, e := range b.events {
			if err := fn(e); err != nil {
				return err
			}
		}
		free <- b.events
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store: export audit: %w", err)
	}
	return nil
}

// MarshalJSON writes the event in its one JSON form, that of the API and of
// NDJSON: hashes and fingerprint in hex (null when absent), occurred_at in
// RFC 3339 UTC, details as the JSON text it is.
func (e AuditEvent) MarshalJSON() ([]byte, error) {
	return appendAuditJSON(make([]byte, 0, 512), &e), nil
}

// appendAuditJSON appends the JSON form of e, keys in a fixed order, strings
// escaped as encoding/json does without HTML escaping. It is written out by
// hand because NDJSON export spent a quarter of its time in encoding/json
// re-compacting what a Marshaler produced. details is emitted as it is: it
// is jsonb text from PostgreSQL, valid JSON on one line.
func appendAuditJSON(b []byte, e *AuditEvent) []byte {
	b = append(b, `{"id":`...)
	b = strconv.AppendInt(b, e.ID, 10)
	b = append(b, `,"occurred_at":"`...)
	b = e.OccurredAt.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","actor_type":`...)
	b = appendJSONString(b, e.ActorType)
	b = append(b, `,"actor_id":`...)
	b = appendJSONString(b, e.ActorID)
	b = append(b, `,"actor_name":`...)
	b = appendJSONString(b, e.ActorName)
	b = append(b, `,"action":`...)
	b = appendJSONString(b, e.Action)
	b = append(b, `,"outcome":`...)
	b = appendJSONString(b, e.Outcome)
	b = append(b, `,"app_id":`...)
	b = appendJSONInt(b, e.AppID)
	b = append(b, `,"target_type":`...)
	b = appendJSONString(b, e.TargetType)
	b = append(b, `,"target_id":`...)
	b = appendJSONString(b, e.TargetID)
	b = append(b, `,"request_id":`...)
	b = appendJSONString(b, e.RequestID)
	b = append(b, `,"client_ip":`...)
	b = appendJSONString(b, e.ClientIP)
	b = append(b, `,"user_agent":`...)
	b = appendJSONString(b, e.UserAgent)
	b = append(b, `,"details":`...)
	if len(e.Details) == 0 {
		b = append(b, `{}`...)
	} else {
		b = append(b, e.Details...)
	}
	b = append(b, `,"token_fingerprint":`...)
	b = appendJSONHex(b, e.TokenFingerprint)
	b = append(b, `,"chain_seq":`...)
	b = appendJSONInt(b, e.ChainSeq)
	b = append(b, `,"prev_hash":`...)
	b = appendJSONHex(b, e.PrevHash)
	b = append(b, `,"hash":`...)
	b = appendJSONHex(b, e.Hash)
	b = append(b, `,"project_id":`...)
	b = appendJSONInt(b, e.ProjectID)
	b = append(b, `,"canonical_version":`...)
	b = strconv.AppendInt(b, int64(e.CanonicalVersion), 10)
	return append(b, '}')
}

// appendJSONInt appends *p, or null.
func appendJSONInt(b []byte, p *int64) []byte {
	if p == nil {
		return append(b, "null"...)
	}
	return strconv.AppendInt(b, *p, 10)
}

// appendJSONHex appends v in hex as a JSON string, or null when v is nil.
func appendJSONHex(b, v []byte) []byte {
	if v == nil {
		return append(b, "null"...)
	}
	b = append(b, '"')
	b = hex.AppendEncode(b, v)
	return append(b, '"')
}

// jsonPlain[c] is true for the ASCII bytes a JSON string holds as they are.
var jsonPlain = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// appendJSONString appends s as a JSON string escaped exactly as
// encoding/json does with SetEscapeHTML(false): " and \ with a backslash,
// control characters as \b, \f, \n, \r, \t or \u00XX, U+2028 and U+2029
// as \u2028 and \u2029 (they end a JavaScript string), and each byte of
// invalid UTF-8 as \ufffd. (internal/token04 has its own, which also
// escapes <, > and & and refuses invalid UTF-8.)
func appendJSONString(b []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if jsonPlain[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
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
		cw := csv.NewWriter(bufio.NewWriterSize(w, auditExportBuffer))
		if err := cw.Write(auditCSVHeader); err != nil {
			return nil, fmt.Errorf("store: audit csv: %w", err)
		}
		return &auditCSV{w: cw}, nil
	case AuditFormatNDJSON:
		return &auditNDJSON{w: bufio.NewWriterSize(w, auditExportBuffer), line: make([]byte, 0, 1024)}, nil
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

// auditNDJSON writes each event as one line of JSON, built in a reused
// buffer.
type auditNDJSON struct {
	w    *bufio.Writer
	line []byte
}

func (n *auditNDJSON) Write(e AuditEvent) error {
	n.line = append(appendAuditJSON(n.line[:0], &e), '\n')
	if _, err := n.w.Write(n.line); err != nil {
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
