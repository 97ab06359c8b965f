package sink_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/zegocloud-console/console/internal/sink"
	"github.com/zegocloud-console/console/internal/store"
)

// receiver is a webhook endpoint that verifies every request with the
// Standard Webhooks reference library and accepts or fails it as told.
type receiver struct {
	t        *testing.T
	srv      *httptest.Server
	verifier atomic.Pointer[standardwebhooks.Webhook]
	accepted received
	requests atomic.Int64
	// answer decides the n-th request (from 1): 0 to accept it, a status
	// to fail with, or -1 to hang until the client gives up.
	answer  func(n int64) int
	header  atomic.Value // the custom header's value of the last request
	badSigs atomic.Int64
}

func newReceiver(t *testing.T, answer func(n int64) int) *receiver {
	r := &receiver{t: t, answer: answer}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) setSecret(secret string) {
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		r.t.Fatal(err)
	}
	r.verifier.Store(wh)
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	n := r.requests.Add(1)
	body, _ := io.ReadAll(req.Body)
	if wh := r.verifier.Load(); wh == nil || wh.Verify(body, req.Header) != nil {
		r.badSigs.Add(1)
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	r.header.Store(req.Header.Get("Authorization"))
	switch code := r.answer(n); {
	case code == -1:
		<-req.Context().Done()
		return
	case code != 0:
		if code/100 == 3 {
			w.Header().Set("Location", "https://elsewhere.example/")
		}
		w.WriteHeader(code)
		return
	}
	sc := bufio.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		seq, _, _ := chainFields(r.t, sc.Bytes())
		r.accepted.add(seq)
	}
	w.WriteHeader(http.StatusNoContent)
}

// webhookSink creates a webhook sink to the receiver from chain position 1.
func (e env) webhookSink(r *receiver, format string) store.Sink {
	e.t.Helper()
	k, secret, err := e.st.CreateSink(e.t.Context(), store.SinkInput{Name: "siem-" + format, Kind: store.SinkWebhook,
		URL: r.srv.URL + "/services/collector?channel=x", Format: format, AllowPrivate: true,
		Headers: map[string]string{"Authorization": "Splunk 11111111-2222"}, FromSeq: 1}, testActor, store.Origin{})
	if err != nil {
		e.t.Fatal(err)
	}
	r.setSecret(secret)
	return k
}

func TestWebhook_EveryEventArrivesOnceInChainOrderSignedPerStandardWebhooks(t *testing.T) {
	t.Parallel()
	for _, format := range []string{store.SinkFormatNDJSON, store.SinkFormatJSON} {
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			r := newReceiver(t, func(int64) int { return 0 })
			k := e.webhookSink(r, format)
			e.events(20)
			e.runner(sink.NewDeliverer(sink.Options{}), "10ms")
			head := e.head()
			waitFor(t, "every event delivered", func() (bool, string) {
				got := e.sink(k.ID)
				return got.CursorSeq == head && got.LagEvents == 0, fmt.Sprintf("cursor %d of %d", got.CursorSeq, head)
			})
			wantSeqs(t, r.accepted.get(), head)
			if n := r.badSigs.Load(); n != 0 {
				t.Errorf("%d requests failed the reference library's signature check", n)
			}
			if got := r.header.Load(); got != "Splunk 11111111-2222" {
				t.Errorf("got Authorization %q, want the sink's custom header", got)
			}
			if got := e.sink(k.ID); got.Delivered != head || got.Failed != 0 {
				t.Errorf("got delivered %d failed %d, want %d and 0", got.Delivered, got.Failed, head)
			}
		})
	}
}

func TestWebhook_500sTimeoutsAndRedirectsAreRetriedWithoutGapOrReorder(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// Requests 1-4 fail: a 500, a hang past the client's timeout, a 302 and
	// a 503; the rest succeed.
	r := newReceiver(t, func(n int64) int {
		return map[int64]int{1: 500, 2: -1, 3: http.StatusFound, 4: 503}[n]
	})
	k := e.webhookSink(r, store.SinkFormatNDJSON)
	e.events(30)
	e.runner(sink.NewDeliverer(sink.Options{Timeout: 300 * time.Millisecond}), "1ms,1ms,1ms,1ms,1ms")
	head := e.head()
	waitFor(t, "every event delivered after the failures", func() (bool, string) {
		got := e.sink(k.ID)
		return got.CursorSeq == head, fmt.Sprintf("cursor %d of %d, last error %q", got.CursorSeq, head, got.LastError)
	})
	wantSeqs(t, r.accepted.get(), head)
	got := e.sink(k.ID)
	if got.Failed != 4 || got.State != store.SinkActive || got.Attempts != 0 {
		t.Errorf("got %d failures, state %s, %d attempts pending; want 4, active, 0", got.Failed, got.State, got.Attempts)
	}
	if !strings.Contains(got.LastError, "503") || strings.Contains(got.LastError, "channel=x") {
		t.Errorf("got last error %q, want the 503, without the URL's query", got.LastError)
	}
}

func TestWebhook_410GoneDisablesTheSinkAndExhaustedRetriesToo(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	gone := newReceiver(t, func(int64) int { return http.StatusGone })
	k := e.webhookSink(gone, store.SinkFormatNDJSON)
	failing := newReceiver(t, func(int64) int { return 500 })
	k2, secret, err := e.st.CreateSink(t.Context(), store.SinkInput{Name: "failing", Kind: store.SinkWebhook, URL: failing.srv.URL,
		AllowPrivate: true, FromSeq: 1}, testActor, store.Origin{})
	if err != nil {
		t.Fatal(err)
	}
	failing.setSecret(secret)
	e.events(3)
	e.runner(sink.NewDeliverer(sink.Options{}), "1ms,1ms")
	waitFor(t, "both sinks disabled", func() (bool, string) {
		a, b := e.sink(k.ID), e.sink(k2.ID)
		return a.State == store.SinkDisabled && b.State == store.SinkDisabled, a.State + " " + b.State
	})
	if got := e.sink(k.ID); got.CursorSeq != 0 || gone.requests.Load() != 1 || !strings.Contains(got.StateReason, "410") {
		t.Errorf("gone: got cursor %d after %d requests, reason %q; want cursor 0 after 1 request, the 410 named", got.CursorSeq, gone.requests.Load(), got.StateReason)
	}
	if got := e.sink(k2.ID); failing.requests.Load() != 3 || !strings.Contains(got.StateReason, "retries exhausted") {
		t.Errorf("failing: got %d requests, reason %q; want 3 (first try and 2 retries), retries exhausted", failing.requests.Load(), got.StateReason)
	}
}

func TestWebhook_RotationSignsWithBothSecrets(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := newReceiver(t, func(int64) int { return 0 })
	k := e.webhookSink(r, store.SinkFormatNDJSON) // the receiver still knows only the old secret
	if _, err := e.st.RotateSinkSecret(t.Context(), k.ID, testActor, store.Origin{}); err != nil {
		t.Fatal(err)
	}
	e.events(2)
	e.runner(sink.NewDeliverer(sink.Options{}), "1ms")
	waitFor(t, "delivery", func() (bool, string) { return len(r.accepted.get()) == int(e.head()), fmt.Sprint(r.accepted.get()) })
	if n := r.badSigs.Load(); n != 0 {
		t.Errorf("%d requests did not verify with the previous secret during rotation", n)
	}
}

func TestWebhook_RefusesALoopbackAddressItWasNotAllowed(t *testing.T) {
	t.Parallel()
	r := newReceiver(t, func(int64) int { return 0 })
	k := store.Sink{ID: 1, Kind: store.SinkWebhook, Config: store.SinkConfig{URL: r.srv.URL, Format: store.SinkFormatNDJSON}}
	d := sink.NewDeliverer(sink.Options{})
	err := d.Test(t.Context(), k, store.SinkSecrets{WebhookSecrets: []store.WebhookSecret{{Secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}}})
	if !errors.Is(err, store.ErrDestinationRefused) || r.requests.Load() != 0 {
		t.Errorf("got %v after %d requests, want the destination refused before any request", err, r.requests.Load())
	}
}
