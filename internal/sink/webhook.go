package sink

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/zegocloud-console/console/internal/store"
)

// Standard Webhooks headers.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// Sign returns the webhook-signature value for a message: "v1,<base64
// HMAC-SHA256 of id.timestamp.body>" under each key, separated by spaces
// (two while a secret is being rotated).
func Sign(keys [][]byte, id string, timestamp int64, body []byte) string {
	sigs := make([]string, 0, len(keys))
	for _, k := range keys {
		m := hmac.New(sha256.New, k)
		m.Write([]byte(id + "." + strconv.FormatInt(timestamp, 10) + "."))
		m.Write(body)
		sigs = append(sigs, "v1,"+base64.StdEncoding.EncodeToString(m.Sum(nil)))
	}
	return strings.Join(sigs, " ")
}

// sendWebhook POSTs the events: one NDJSON batch, or one JSON event per
// request. 2xx is success; 410 Gone disables the sink; anything else,
// redirects included, is a failure to retry.
func (d *Deliverer) sendWebhook(ctx context.Context, k store.Sink, sec store.SinkSecrets, events []store.AuditEvent) (int, error) {
	if k.Config.Format == store.SinkFormatJSON {
		for i := range events {
			body, _ := events[i].MarshalJSON()
			if err := d.post(ctx, k, sec, messageID(k, events[i:i+1]), "application/json", body); err != nil {
				return i, err
			}
		}
		return len(events), nil
	}
	var body bytes.Buffer
	for i := range events {
		line, _ := events[i].MarshalJSON()
		body.Write(line)
		body.WriteByte('\n')
	}
	if err := d.post(ctx, k, sec, messageID(k, events), "application/x-ndjson", body.Bytes()); err != nil {
		return 0, err
	}
	return len(events), nil
}

// messageID names a delivery the same way on every retry of the same
// events, so that a receiver can drop a duplicate by its webhook-id.
func messageID(k store.Sink, events []store.AuditEvent) string {
	first, last := events[0].ChainSeq, events[len(events)-1].ChainSeq
	if first == nil || last == nil {
		return fmt.Sprintf("msg_zc%d_test_%d", k.ID, time.Now().UnixNano())
	}
	return fmt.Sprintf("msg_zc%d_%d_%d", k.ID, *first, *last)
}

// post sends one signed request.
func (d *Deliverer) post(ctx context.Context, k store.Sink, sec store.SinkSecrets, id, contentType string, body []byte) error {
	now := d.now()
	keys := sec.SigningKeys(now)
	if len(keys) == 0 {
		return errors.New("the sink has no signing secret")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, k.Config.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("webhook request: %w", err)
	}
	for name, value := range sec.Headers {
		req.Header.Set(name, value)
	}
	ts := now.Unix()
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("User-Agent", "zego-console-audit-sink")
	req.Header.Set(HeaderID, id)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(HeaderSignature, Sign(keys, id, ts, body))
	res, err := d.client.Do(req)
	if err != nil {
		var ue *url.Error // its text repeats the URL, whose query may hold a credential
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("POST %s: %w", k.Destination(), err)
	}
	defer res.Body.Close()
	io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10)) //nolint:errcheck // drained for reuse only
	switch {
	case res.StatusCode >= 200 && res.StatusCode < 300:
		return nil
	case res.StatusCode == http.StatusGone:
		return fmt.Errorf("POST %s: %w", k.Destination(), store.ErrSinkGone)
	case res.StatusCode >= 300 && res.StatusCode < 400:
		return fmt.Errorf("POST %s: the receiver answered %s (a redirect, not followed: configure the final URL)", k.Destination(), res.Status)
	default:
		return fmt.Errorf("POST %s: the receiver answered %s", k.Destination(), res.Status)
	}
}
