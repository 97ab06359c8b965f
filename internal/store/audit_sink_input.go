package store

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// SinkInput is what an admin enters to create a sink. Fields that do not
// belong to the kind must be empty.
type SinkInput struct {
	Name         string
	Kind         string
	URL          string            // webhook
	Format       string            // webhook: ndjson (default) or json
	Headers      map[string]string // webhook: custom headers, kept encrypted (a Splunk HEC token…)
	AllowPrivate bool              // webhook, syslog: allow loopback and private addresses
	Address      string            // syslog: host:port
	ServerName   string            // syslog: the name the receiver's certificate must carry, when not the host
	CAPEM        string            // syslog: CA certificates (PEM) to trust instead of the system's
	ClientCert   string            // syslog: client certificate (PEM)
	ClientKey    string            // syslog: its private key (PEM), kept encrypted
	Facility     int               // syslog: 1–23; 0 means 13 (log audit)
	MaxMessage   int               // syslog: the receiver's largest message; 0 means 8192
	Path         string            // file: a file name in the sink directory
	MaxBytes     int64             // file: rotate past this size; 0 means 100 MiB
	Filter       SinkFilter
	FromSeq      int64 // 0: events sealed from now on; N: from chain position N (those still kept)
}

// Defaults and limits of sink settings.
const (
	DefaultSyslogFacility = 13 // log audit (RFC 5424)
	DefaultSyslogMax      = 8192
	DefaultSinkFileMax    = 100 << 20
	minSyslogMax          = 480 // RFC 5424 receivers must take at least this
	maxSinkHeaders        = 20
)

var (
	sinkFileNameRe   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$`)
	httpHeaderNameRe = regexp.MustCompile("^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$")
	// Headers a sink may not set: the transport's, and the signature's.
	reservedSinkHeaders = []string{"host", "content-length", "content-type", "transfer-encoding", "connection",
		"webhook-id", "webhook-timestamp", "webhook-signature", "te", "trailer", "upgrade"}
)

// validate checks in and splits it into stored settings and secrets.
func (in *SinkInput) validate(ctx context.Context) (SinkConfig, SinkSecrets, error) {
	v := validator{}
	in.Name = strings.TrimSpace(in.Name)
	v.check(in.Name != "", "name", "is required")
	v.check(utf8.RuneCountInString(in.Name) <= 100, "name", "must be at most 100 characters")
	v.checkText("name", in.Name)
	var cfg SinkConfig
	var sec SinkSecrets
	var allowed []string // the fields of the kind
	switch in.Kind {
	case SinkWebhook:
		allowed = []string{"url", "format", "headers", "allow_private"}
		cfg.URL, cfg.AllowPrivate = strings.TrimSpace(in.URL), in.AllowPrivate
		in.checkWebhook(ctx, v, &cfg, &sec)
	case SinkSyslog:
		allowed = []string{"address", "server_name", "ca_pem", "client_cert_pem", "client_key_pem", "facility", "max_message", "allow_private"}
		cfg.AllowPrivate = in.AllowPrivate
		in.checkSyslog(ctx, v, &cfg, &sec)
	case SinkFile:
		allowed = []string{"path", "max_bytes"}
		cfg.Path, cfg.MaxBytes = in.Path, in.MaxBytes
		v.check(sinkFileNameRe.MatchString(in.Path) && !strings.Contains(in.Path, ".."), "path",
			"want a file name (letters, digits, '.', '_', '-'): files are written in the sink directory (CONSOLE_SINK_DIR)")
		v.check(in.MaxBytes == 0 || in.MaxBytes >= 1024, "max_bytes", "want at least 1024 bytes")
		if cfg.MaxBytes == 0 {
			cfg.MaxBytes = DefaultSinkFileMax
		}
	default:
		v.check(false, "kind", "want webhook, syslog or file")
	}
	for field, set := range map[string]bool{"url": in.URL != "", "format": in.Format != "", "headers": len(in.Headers) > 0,
		"allow_private": in.AllowPrivate, "address": in.Address != "", "server_name": in.ServerName != "", "ca_pem": in.CAPEM != "",
		"client_cert_pem": in.ClientCert != "", "client_key_pem": in.ClientKey != "", "facility": in.Facility != 0,
		"max_message": in.MaxMessage != 0, "path": in.Path != "", "max_bytes": in.MaxBytes != 0} {
		v.check(!set || slices.Contains(allowed, field) || in.Kind == "", field, "does not apply to a %s sink", in.Kind)
	}
	in.Filter.check(v)
	v.check(in.FromSeq >= 0, "from_seq", "want 0 (from now on) or a chain sequence number")
	return cfg, sec, v.err()
}

func (in *SinkInput) checkWebhook(ctx context.Context, v validator, cfg *SinkConfig, sec *SinkSecrets) {
	u, err := url.Parse(cfg.URL)
	switch {
	case cfg.URL == "":
		v.check(false, "url", "is required")
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Opaque != "":
		v.check(false, "url", "want an http:// or https:// URL")
	case u.User != nil:
		v.check(false, "url", "must not hold a user or password: send credentials as a header, which is kept encrypted")
	case len(cfg.URL) > 2000:
		v.check(false, "url", "must be at most 2000 characters")
	default:
		v.checkText("url", cfg.URL)
		if err := checkDestinationHost(ctx, u.Hostname(), cfg.AllowPrivate); err != nil {
			v.check(false, "url", "%v", err)
		}
	}
	cfg.Format = in.Format
	if cfg.Format == "" {
		cfg.Format = SinkFormatNDJSON
	}
	v.check(cfg.Format == SinkFormatNDJSON || cfg.Format == SinkFormatJSON, "format", "want ndjson or json")
	v.check(len(in.Headers) <= maxSinkHeaders, "headers", "at most %d headers", maxSinkHeaders)
	for name, value := range in.Headers {
		v.check(httpHeaderNameRe.MatchString(name), "headers", "%q is not a header name", name)
		v.check(!slices.Contains(reservedSinkHeaders, strings.ToLower(name)), "headers", "%s is set by the console", name)
		v.check(utf8.ValidString(value) && !strings.ContainsAny(value, "\r\n\x00") && len(value) <= 4096, "headers",
			"the value of %s must be one line of at most 4096 bytes", name)
		if sec.Headers == nil {
			sec.Headers = map[string]string{}
		}
		sec.Headers[name] = value
		cfg.HeaderNames = append(cfg.HeaderNames, name)
	}
	slices.Sort(cfg.HeaderNames)
}

func (in *SinkInput) checkSyslog(ctx context.Context, v validator, cfg *SinkConfig, sec *SinkSecrets) {
	cfg.Address, cfg.ServerName = strings.TrimSpace(in.Address), strings.TrimSpace(in.ServerName)
	host, port, err := net.SplitHostPort(cfg.Address)
	n, perr := strconv.Atoi(port)
	if err != nil || host == "" || perr != nil || n < 1 || n > 65535 {
		v.check(false, "address", "want host:port of a syslog receiver that speaks TLS (RFC 5425), such as siem.example.com:6514")
	} else if err := checkDestinationHost(ctx, host, cfg.AllowPrivate); err != nil {
		v.check(false, "address", "%v", err)
	}
	v.checkText("server_name", cfg.ServerName)
	if in.CAPEM != "" {
		v.check(x509.NewCertPool().AppendCertsFromPEM([]byte(in.CAPEM)), "ca_pem", "holds no PEM certificate")
		cfg.CAPEM = in.CAPEM
	}
	if in.ClientCert != "" || in.ClientKey != "" {
		_, err := tls.X509KeyPair([]byte(in.ClientCert), []byte(in.ClientKey))
		v.check(err == nil, "client_cert_pem", "want a PEM certificate and its PEM private key")
		cfg.ClientCert, sec.ClientKeyPEM = in.ClientCert, in.ClientKey
	}
	cfg.Facility = in.Facility
	if cfg.Facility == 0 {
		cfg.Facility = DefaultSyslogFacility
	}
	v.check(cfg.Facility >= 1 && cfg.Facility <= 23, "facility", "want a syslog facility from 1 to 23")
	cfg.MaxMessage = in.MaxMessage
	if cfg.MaxMessage == 0 {
		cfg.MaxMessage = DefaultSyslogMax
	}
	v.check(cfg.MaxMessage >= minSyslogMax && cfg.MaxMessage <= 1<<20, "max_message", "want %d to %d bytes", minSyslogMax, 1<<20)
}

// check validates the filter's values.
func (f SinkFilter) check(v validator) {
	for _, id := range f.AppIDs {
		v.check(id >= 1 && id <= 1<<32-1, "filter", "app id %d is not a ZEGO AppID", id)
	}
	for _, a := range f.Actions {
		v.check(auditActionRe.MatchString(a) || auditActionPrefixRe.MatchString(a), "filter",
			"action %q: want an action such as token.issue, or a prefix such as token.*", a)
	}
	for _, o := range f.Outcomes {
		v.check(o == OutcomeSuccess || o == OutcomeDenied || o == OutcomeError, "filter", "outcome %q: want success, denied or error", o)
	}
}

// normalised sorts the filter's lists, each value once, never nil (the
// columns are NOT NULL).
func (f SinkFilter) normalised() SinkFilter {
	return SinkFilter{AppIDs: sortedSet(f.AppIDs), Actions: sortedSet(f.Actions), Outcomes: sortedSet(f.Outcomes)}
}

func sortedSet[T int64 | string](s []T) []T {
	out := make([]T, 0, len(s))
	return slices.Compact(append(out, slices.Sorted(slices.Values(s))...))
}

// AnchorAction is the action of the sealer's anchor events.
const AnchorAction = "audit.anchor"

// Matches tells whether the filter lets e through. Anchors always pass.
func (f SinkFilter) Matches(e *AuditEvent) bool {
	if e.Action == AnchorAction {
		return true
	}
	if len(f.AppIDs) > 0 && (e.AppID == nil || !slices.Contains(f.AppIDs, *e.AppID)) {
		return false
	}
	if len(f.Outcomes) > 0 && !slices.Contains(f.Outcomes, e.Outcome) {
		return false
	}
	if len(f.Actions) == 0 {
		return true
	}
	for _, a := range f.Actions {
		if prefix, ok := strings.CutSuffix(a, "*"); ok && strings.HasPrefix(e.Action, prefix) || a == e.Action {
			return true
		}
	}
	return false
}

// Cloud metadata services, refused whatever a sink allows.
var metadataAddrs = []netip.Addr{
	netip.MustParseAddr("169.254.169.254"), // AWS, GCP, Azure, OpenStack…
	netip.MustParseAddr("169.254.170.2"),   // AWS ECS task metadata
	netip.MustParseAddr("100.100.100.200"), // Alibaba Cloud
	netip.MustParseAddr("168.63.129.16"),   // Azure wire server
	netip.MustParseAddr("fd00:ec2::254"),   // AWS over IPv6
}

var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// ErrDestinationRefused means a sink's destination address is one the
// console does not send audit events to.
var ErrDestinationRefused = errors.New("destination refused")

// CheckDestinationAddr refuses addresses a sink must not reach: cloud
// metadata services, link-local, unspecified and multicast addresses
// always; loopback, private (RFC 1918, unique local) and shared (RFC 6598)
// ones unless allowPrivate.
func CheckDestinationAddr(a netip.Addr, allowPrivate bool) error {
	a = a.Unmap()
	switch {
	case slices.Contains(metadataAddrs, a):
		return fmt.Errorf("%w: %s is a cloud metadata address", ErrDestinationRefused, a)
	case a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() || a.IsInterfaceLocalMulticast():
		return fmt.Errorf("%w: %s is a link-local address", ErrDestinationRefused, a)
	case a.IsUnspecified() || a.IsMulticast() || !a.IsValid():
		return fmt.Errorf("%w: %s is not a unicast address", ErrDestinationRefused, a)
	case !allowPrivate && (a.IsLoopback() || a.IsPrivate() || cgnat.Contains(a)):
		return fmt.Errorf("%w: %s is a loopback or private address; allow private ranges for this sink if it is meant", ErrDestinationRefused, a)
	}
	return nil
}

// checkDestinationHost checks host's addresses, resolving a name. A name
// that does not resolve now is let through: delivery checks every address
// it connects to again.
func checkDestinationHost(ctx context.Context, host string, allowPrivate bool) error {
	if a, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		return CheckDestinationAddr(a, allowPrivate)
	}
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return CheckDestinationAddr(netip.IPv6Loopback(), allowPrivate)
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil
	}
	for _, a := range addrs {
		if err := CheckDestinationAddr(a, allowPrivate); err != nil {
			return fmt.Errorf("%s resolves to a refused address: %w", host, err)
		}
	}
	return nil
}

// redactURL is raw without user information, query or fragment, which may
// hold credentials.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(invalid URL)"
	}
	u.User, u.RawQuery, u.Fragment, u.ForceQuery = nil, "", "", false
	return u.String()
}

// ParseSinkHeaders reads custom headers written one "Name: value" a line,
// as the CLI's --header-file and the UI's form take them; blank lines and
// lines starting with # are skipped. A line without a colon is a field
// error on headers.
func ParseSinkHeaders(text string) (map[string]string, error) {
	headers := map[string]string{}
	for n, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			return nil, &ValidationError{Fields: map[string]string{"headers": fmt.Sprintf("line %d: want 'Name: value'", n+1)}}
		}
		headers[strings.TrimSpace(name)] = strings.TrimSpace(value)
	}
	return headers, nil
}
