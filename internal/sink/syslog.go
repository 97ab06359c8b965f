package sink

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/zegocloud-console/console/internal/store"
)

// Syslog message parts (RFC 5424): the SD-IDs use the enterprise number
// 32473 that RFC 5612 reserves for documentation, as a private one would.
const (
	syslogAppName = "zego-console"
	sdAudit       = "audit@32473"
	sdPart        = "part@32473"
	syslogBOM     = "\xef\xbb\xbf"
)

// syslogSeverity maps an outcome to a severity: errors are err (3),
// denials warning (4), anchors notice (5), the rest info (6).
func syslogSeverity(e *store.AuditEvent) int {
	switch {
	case e.Outcome == store.OutcomeError:
		return 3
	case e.Outcome == store.OutcomeDenied:
		return 4
	case e.Action == store.AnchorAction:
		return 5
	}
	return 6
}

// SyslogMessages renders e as RFC 5424 messages of at most max bytes each:
// the event's fields as structured data, its JSON form as the message. An
// event too large for one message is split into parts, each saying which
// part of how many it is ([part@32473 n="1" of="3"]); nothing is dropped.
func SyslogMessages(e *store.AuditEvent, facility int, hostname string, max int) []string {
	head := "<" + strconv.Itoa(facility*8+syslogSeverity(e)) + ">1 " + e.OccurredAt.UTC().Format("2006-01-02T15:04:05.000000Z07:00") +
		" " + printUSASCII(hostname, 255) + " " + syslogAppName + " - " + printUSASCII(e.Action, 32) + " "
	sd := auditSD(e, true)
	if len(head)+len(sd)+200 > max {
		sd = auditSD(e, false) // only the chain fields fit beside a useful part of the message
	}
	line, _ := e.MarshalJSON()
	msg := string(line)
	if len(head)+len(sd)+1+len(syslogBOM)+len(msg) <= max {
		return []string{head + sd + " " + syslogBOM + msg}
	}
	const partSD = len(`[` + sdPart + ` n="0000" of="0000"]`)
	room := max - len(head) - len(sd) - partSD - 1 - len(syslogBOM)
	var chunks []string
	for len(msg) > 0 {
		n := min(room, len(msg))
		for n < len(msg) && n > 0 && !utf8.RuneStart(msg[n]) {
			n--
		}
		chunks = append(chunks, msg[:n])
		msg = msg[n:]
	}
	out := make([]string, len(chunks))
	for i, c := range chunks {
		out[i] = head + sd + `[` + sdPart + ` n="` + strconv.Itoa(i+1) + `" of="` + strconv.Itoa(len(chunks)) + `"] ` + syslogBOM + c
	}
	return out
}

// auditSD is the event's structured data element; full adds the fields
// beyond the chain's.
func auditSD(e *store.AuditEvent, full bool) string {
	var b strings.Builder
	b.WriteString("[" + sdAudit)
	param := func(name, value string) {
		b.WriteString(" " + name + `="`)
		for _, r := range value {
			if r == '"' || r == '\\' || r == ']' {
				b.WriteByte('\\')
			}
			b.WriteRune(r)
		}
		b.WriteByte('"')
	}
	opt := func(p *int64) string {
		if p == nil {
			return ""
		}
		return strconv.FormatInt(*p, 10)
	}
	param("chain_seq", opt(e.ChainSeq))
	param("id", strconv.FormatInt(e.ID, 10))
	param("prev_hash", fmt.Sprintf("%x", e.PrevHash))
	param("hash", fmt.Sprintf("%x", e.Hash))
	if full {
		param("action", e.Action)
		param("outcome", e.Outcome)
		param("actor_type", e.ActorType)
		param("actor_name", e.ActorName)
		param("app_id", opt(e.AppID))
		param("target_type", e.TargetType)
		param("target_id", e.TargetID)
		param("request_id", e.RequestID)
		param("client_ip", e.ClientIP)
	}
	b.WriteByte(']')
	return b.String()
}

// printUSASCII makes s a syslog header field: printable ASCII, at most max
// bytes, "-" when empty.
func printUSASCII(s string, max int) string {
	s = strings.Map(func(r rune) rune {
		if r < 33 || r > 126 {
			return -1
		}
		return r
	}, s)
	if len(s) > max {
		s = s[:max]
	}
	if s == "" {
		return "-"
	}
	return s
}

// sendSyslog writes the events over one TLS connection, each message framed
// by its length (RFC 5425 octet counting), then closes its side and waits
// for the receiver to close, so that a receiver that reset the connection
// shows as a failure. A batch is all or nothing: on failure it is sent
// again whole (at-least-once).
func (d *Deliverer) sendSyslog(ctx context.Context, k store.Sink, sec store.SinkSecrets, events []store.AuditEvent) (int, error) {
	conf, err := syslogTLS(k, sec)
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	raw, err := d.dialContext(ctx, "tcp", k.Config.Address)
	if err != nil {
		return 0, fmt.Errorf("syslog %s: %w", k.Config.Address, err)
	}
	defer raw.Close()
	deadline, _ := ctx.Deadline()
	raw.SetDeadline(deadline) //nolint:errcheck // a failed deadline shows as a failed write
	conn := tls.Client(raw, conf)
	if err := conn.HandshakeContext(ctx); err != nil {
		return 0, fmt.Errorf("syslog %s: TLS: %w", k.Config.Address, err)
	}
	w := bufio.NewWriterSize(conn, 64<<10)
	for i := range events {
		for _, m := range SyslogMessages(&events[i], k.Config.Facility, d.hostname, k.Config.MaxMessage) {
			w.WriteString(strconv.Itoa(len(m)) + " " + m) //nolint:errcheck // the error sticks to w and shows in Flush
		}
	}
	if err := w.Flush(); err != nil {
		return 0, fmt.Errorf("syslog %s: write: %w", k.Config.Address, err)
	}
	if err := conn.CloseWrite(); err != nil {
		return 0, fmt.Errorf("syslog %s: close: %w", k.Config.Address, err)
	}
	// The receiver closes once it has read everything; one that does not
	// within the timeout has still received what TCP acknowledged.
	raw.SetReadDeadline(time.Now().Add(min(5*time.Second, d.timeout))) //nolint:errcheck // as above
	if _, err := io.Copy(io.Discard, conn); err != nil && !errors.Is(err, io.EOF) && !isTimeout(err) {
		return 0, fmt.Errorf("syslog %s: %w", k.Config.Address, err)
	}
	return len(events), nil
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// syslogTLS is the TLS configuration of a syslog sink: its CA or the
// system's, the receiver's name, and its client certificate if any.
func syslogTLS(k store.Sink, sec store.SinkSecrets) (*tls.Config, error) {
	host, _, _ := net.SplitHostPort(k.Config.Address)
	conf := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: host}
	if k.Config.ServerName != "" {
		conf.ServerName = k.Config.ServerName
	}
	if k.Config.CAPEM != "" {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM([]byte(k.Config.CAPEM)) {
			return nil, errors.New("syslog: the sink's CA holds no certificate")
		}
		conf.RootCAs = pool
	}
	if k.Config.ClientCert != "" {
		cert, err := tls.X509KeyPair([]byte(k.Config.ClientCert), []byte(sec.ClientKeyPEM))
		if err != nil {
			return nil, fmt.Errorf("syslog: client certificate: %w", err)
		}
		conf.Certificates = []tls.Certificate{cert}
	}
	return conf, nil
}
