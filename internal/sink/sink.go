// Package sink delivers the sealed audit chain to audit sinks: webhooks
// signed per Standard Webhooks, syslog receivers over TLS (RFC 5424 with
// RFC 5425 framing) and local NDJSON files. The store keeps each sink's
// cursor and lock (store.DeliverSinkBatch); this package speaks to the
// receivers, and Runner drives the deliveries of every instance.
package sink

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"syscall"
	"time"

	"github.com/zegocloud-console/console/internal/store"
)

// Deliverer sends events to sinks of every kind.
type Deliverer struct {
	dir      string        // where file sinks write
	timeout  time.Duration // per request or connection
	client   *http.Client
	dialer   *net.Dialer
	hostname string
	now      func() time.Time
}

// Options configure a Deliverer.
type Options struct {
	Dir     string        // the directory of file sinks (CONSOLE_SINK_DIR); empty: file sinks fail
	Timeout time.Duration // per webhook request or syslog connection; 0 means 30 s
}

// allowPrivateKey carries, in a dial's context, whether the sink allows
// loopback and private addresses.
type allowPrivateKey struct{}

// NewDeliverer makes a Deliverer. Every connection it opens is checked
// against store.CheckDestinationAddr after name resolution, so that a name
// that resolves to a refused address later (DNS rebinding) is refused too.
func NewDeliverer(o Options) *Deliverer {
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	d := &Deliverer{dir: o.Dir, timeout: o.Timeout, now: time.Now}
	d.dialer = &net.Dialer{Timeout: o.Timeout}
	d.hostname, _ = os.Hostname()
	transport := &http.Transport{DialContext: d.dialContext, TLSHandshakeTimeout: o.Timeout, ResponseHeaderTimeout: o.Timeout,
		MaxIdleConnsPerHost: 4, IdleConnTimeout: 90 * time.Second, ForceAttemptHTTP2: true}
	d.client = &http.Client{Transport: transport, Timeout: o.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return d
}

// dialContext connects like net.Dialer, refusing addresses a sink may not
// reach (see store.CheckDestinationAddr) once the name is resolved.
func (d *Deliverer) dialContext(ctx context.Context, network, address string) (net.Conn, error) {
	allowPrivate, _ := ctx.Value(allowPrivateKey{}).(bool)
	dialer := *d.dialer
	dialer.Control = func(_, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return fmt.Errorf("%w: %s", store.ErrDestinationRefused, address)
		}
		return store.CheckDestinationAddr(ap.Addr(), allowPrivate)
	}
	return dialer.DialContext(ctx, network, address)
}

// Send delivers events, in chain order, to k and says how many, from the
// first, the receiver took. It is a store.SinkSender.
func (d *Deliverer) Send(ctx context.Context, k store.Sink, sec store.SinkSecrets, events []store.AuditEvent) (int, error) {
	ctx = context.WithValue(ctx, allowPrivateKey{}, k.Config.AllowPrivate)
	switch k.Kind {
	case store.SinkWebhook:
		return d.sendWebhook(ctx, k, sec, events)
	case store.SinkSyslog:
		return d.sendSyslog(ctx, k, sec, events)
	case store.SinkFile:
		return d.appendFile(k, events)
	}
	return 0, fmt.Errorf("sink %d: unknown kind %q", k.ID, k.Kind)
}

// TestEvent is what "send a test event" sends: shaped like an audit event,
// but outside the chain (chain_seq null), so verification skips it.
func (d *Deliverer) TestEvent(k store.Sink) store.AuditEvent {
	details, _ := json.Marshal(map[string]any{"sink": k.Name, "note": "a test event from the console: not part of the audit chain"})
	return store.AuditEvent{OccurredAt: d.now().UTC().Truncate(time.Microsecond), ActorType: store.ActorSystem, ActorName: "console",
		Action: "sink.test", Outcome: store.OutcomeSuccess, TargetType: "sink", TargetID: fmt.Sprint(k.ID), Details: details}
}

// Test sends a test event to k now and returns the receiver's error.
func (d *Deliverer) Test(ctx context.Context, k store.Sink, sec store.SinkSecrets) error {
	n, err := d.Send(ctx, k, sec, []store.AuditEvent{d.TestEvent(k)})
	if err == nil && n != 1 {
		err = errors.New("the test event was not delivered")
	}
	return err
}
