// Package zegotest is a local stand-in for ZEGO's server APIs, for tests:
// it serves the kick-out actions of RTC (KickoutUser) and In-app Chat
// (KickoutRoomUser) as ZEGO documents them, checks every request's signature
// exactly as ZEGO does (refusing a wrong one with ZEGO's Code), enforces the
// documented users-per-call and calls-per-second limits, records what it
// was asked, and can be told to fail, rate-limit, hang or block.
package zegotest

import (
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/zegocloud-console/console/internal/zego"
)

// Call is one request the fake received, whatever it answered.
type Call struct {
	At        time.Time // when it arrived
	Service   string    // zego.ServiceRTC or zego.ServiceZIM
	AppID     uint32
	RoomID    string
	UserIDs   []string
	Reason    string
	Signature string
	HTTP      int   // the HTTP status answered
	Code      int64 // ZEGO's Code answered (when HTTP is 200)
	RequestID string
}

// Kicked tells whether the fake kicked the call's users (or answered that
// they are not in the room).
func (c Call) Kicked() bool {
	return c.HTTP == http.StatusOK &&
		(c.Code == zego.CodeSuccess || c.Code == zego.CodeRoomNotFound || c.Code == zego.CodeUserNotInRoom)
}

// Failure is a way the fake can fail a call.
type Failure int

// The failures FailNext can inject.
const (
	Unavailable Failure = iota + 1 // HTTP 503 with a plain-text body
	Busy                           // Code 1: the server is busy
	RateLimited                    // ZEGO's rate-limit Code (206 for RTC, 7 for ZIM)
	Hang                           // no answer until the caller gives up
)

// Fake is the stand-in server. Its URL is the base URL of both products.
type Fake struct {
	URL string

	t        testing.TB
	srv      *httptest.Server
	mu       sync.Mutex
	secrets  map[uint32]string
	only     string // accept only this product's action; "" both
	calls    []Call
	failures []Failure
	gone     map[string]bool // rooms that no longer exist
	block    chan struct{}   // while not nil, calls wait for it to close
	arrived  chan struct{}   // closed and renewed on every call
	nextID   int
	now      func() time.Time
}

// Option changes a Fake.
type Option func(*Fake)

// OnlyService makes the fake serve one product's action only, as a host of
// that product would (the other action gets ZEGO's "unsupported Action").
func OnlyService(service string) Option { return func(f *Fake) { f.only = service } }

// WithClock makes the fake read the time from now: when calls arrive (for
// its rate limit) and what a request's Timestamp is checked against.
func WithClock(now func() time.Time) Option { return func(f *Fake) { f.now = now } }

// New starts a fake that knows the ServerSecret of each AppID; it stops
// when t ends.
func New(t testing.TB, secrets map[uint32]string, opts ...Option) *Fake {
	t.Helper()
	f := &Fake{t: t, secrets: secrets, gone: map[string]bool{}, arrived: make(chan struct{}), now: time.Now}
	for _, o := range opts {
		o(f)
	}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	f.URL = f.srv.URL + "/"
	t.Cleanup(func() {
		f.Release()
		f.srv.CloseClientConnections()
		f.srv.Close()
	})
	return f
}

// FailNext makes the next calls fail, one failure each, in order.
func (f *Fake) FailNext(failures ...Failure) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failures = append(f.failures, failures...)
}

// Gone makes room a room that no longer exists: kicks there are answered
// with ZEGO's "room does not exist" (RTC) or "user does not exist" (ZIM).
func (f *Fake) Gone(room string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.gone[room] = true
}

// Block makes every call wait, recorded as arrived, until Release.
func (f *Fake) Block() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.block == nil {
		f.block = make(chan struct{})
	}
}

// Release lets blocked calls be answered.
func (f *Fake) Release() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.block != nil {
		close(f.block)
		f.block = nil
	}
}

// Calls returns every call received so far, in order of arrival.
func (f *Fake) Calls() []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

// Kicks returns the calls that kicked their users, in order of arrival.
func (f *Fake) Kicks() []Call {
	var out []Call
	for _, c := range f.Calls() {
		if c.Kicked() {
			out = append(out, c)
		}
	}
	return out
}

// WaitFor waits until cond holds of the calls received so far, failing the
// test after timeout with what was received.
func (f *Fake) WaitFor(timeout time.Duration, what string, cond func(calls []Call) bool) []Call {
	f.t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		f.mu.Lock()
		calls, arrived := slices.Clone(f.calls), f.arrived
		f.mu.Unlock()
		if cond(calls) {
			return calls
		}
		select {
		case <-arrived:
		case <-deadline.C:
			f.t.Fatalf("ZEGO fake: %s: not within %v; %d calls received: %+v", what, timeout, len(calls), calls)
			return nil
		}
	}
}

var nonceRe = regexp.MustCompile(`^[0-9a-f]{16}$`)

// serve answers one call as ZEGO would.
func (f *Fake) serve(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f.mu.Lock()
	at := f.now()
	f.mu.Unlock()
	c := Call{At: at, Service: zego.ServiceOfAction(q.Get("Action")), RoomID: q.Get("RoomId"),
		UserIDs: q["UserId[]"], Reason: q.Get("CustomReason"), Signature: q.Get("Signature"), HTTP: http.StatusOK}
	app, appErr := strconv.ParseUint(q.Get("AppId"), 10, 32)
	c.AppID = uint32(app)

	f.mu.Lock()
	f.nextID++
	c.RequestID = "fake-" + strconv.Itoa(f.nextID)
	secret, known := f.secrets[c.AppID]
	var failure Failure
	if len(f.failures) > 0 {
		failure, f.failures = f.failures[0], f.failures[1:]
	}
	c.Code, c.HTTP = f.check(q, c, appErr == nil, known, secret)
	if c.Code == zego.CodeSuccess && c.HTTP == http.StatusOK {
		switch failure {
		case Unavailable:
			c.HTTP = http.StatusServiceUnavailable
		case Busy:
			c.Code = zego.CodeBusy
		case RateLimited:
			c.Code = rateLimitCode(c.Service)
		case Hang:
			c.HTTP = 0
		}
	}
	if c.Code == zego.CodeSuccess && c.HTTP == http.StatusOK && f.gone[c.RoomID] {
		c.Code = zego.CodeRoomNotFound
		if c.Service == zego.ServiceZIM {
			c.Code = zego.CodeUserNotInRoom
		}
	}
	f.calls = append(f.calls, c)
	close(f.arrived)
	f.arrived = make(chan struct{})
	block := f.block
	f.mu.Unlock()

	if block != nil {
		select {
		case <-block:
		case <-r.Context().Done():
			return
		}
	}
	switch {
	case c.HTTP == 0: // Hang: until the caller gives up
		<-r.Context().Done()
	case c.HTTP != http.StatusOK:
		http.Error(w, "service unavailable", c.HTTP)
	default:
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"Code": c.Code, "Message": message(c.Code), "RequestId": c.RequestID})
	}
}

// check validates the public parameters and the action's own as ZEGO
// documents them, and enforces the rate limit; it returns the Code to
// answer. f.mu is held.
func (f *Fake) check(q map[string][]string, c Call, appOK, known bool, secret string) (int64, int) {
	get := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	ts, tsErr := strconv.ParseInt(get("Timestamp"), 10, 64)
	switch {
	case c.Service == "" || (f.only != "" && c.Service != f.only):
		return 100000007, http.StatusOK // unsupported Action
	case !appOK:
		return 100000001, http.StatusOK // AppId format
	case tsErr != nil:
		return 100000003, http.StatusOK // Timestamp format
	case !nonceRe.MatchString(get("SignatureNonce")):
		return 100000008, http.StatusOK
	case get("SignatureVersion") != "2.0":
		return 100000014, http.StatusOK
	case !known:
		return 100000010, http.StatusOK // failed to get ServerSecret
	case time.Duration(abs(f.now().Unix()-ts))*time.Second > 10*time.Minute:
		return zego.CodeSignatureExpired, http.StatusOK
	}
	want := zego.Sign(c.AppID, get("SignatureNonce"), []byte(secret), ts)
	if subtle.ConstantTimeCompare([]byte(want), []byte(get("Signature"))) != 1 {
		return zego.CodeBadSignature, http.StatusOK
	}
	if c.RoomID == "" || len(c.UserIDs) == 0 || len(c.UserIDs) > zego.LimitsOf(c.Service).UsersPerCall {
		return zego.CodeBadParameter, http.StatusOK
	}
	// The documented rate: calls of this product and AppID in the last second.
	n := 0
	for _, prev := range f.calls {
		if prev.Service == c.Service && prev.AppID == c.AppID && prev.HTTP == http.StatusOK &&
			prev.Code != rateLimitCode(c.Service) && c.At.Sub(prev.At) < time.Second {
			n++
		}
	}
	if n >= zego.LimitsOf(c.Service).CallsPerSecond {
		return rateLimitCode(c.Service), http.StatusOK
	}
	return zego.CodeSuccess, http.StatusOK
}

func rateLimitCode(service string) int64 {
	if service == zego.ServiceRTC {
		return zego.CodeRTCRateLimited
	}
	return zego.CodeRateLimited
}

func message(code int64) string {
	switch code {
	case zego.CodeSuccess:
		return "success"
	case zego.CodeBadSignature:
		return "Invalid signature."
	case zego.CodeSignatureExpired:
		return "Signature expired."
	case zego.CodeRateLimited, zego.CodeRTCRateLimited:
		return "The number of requests per second exceeds the limit."
	case zego.CodeBusy:
		return "Request failed, the server is busy. Please retry."
	case zego.CodeRoomNotFound:
		return "The room does not exist."
	case zego.CodeUserNotInRoom:
		return "User does not exist."
	}
	return "request refused"
}

func abs(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}
