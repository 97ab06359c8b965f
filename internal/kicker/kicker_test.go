package kicker_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zegocloud-console/console/internal/kicker"
	"github.com/zegocloud-console/console/internal/pgtest"
	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/token04"
	"github.com/zegocloud-console/console/internal/web/webtest"
	"github.com/zegocloud-console/console/internal/zego"
	"github.com/zegocloud-console/console/internal/zego/zegotest"
)

const (
	appID  = 4242
	secret = "0123456789abcdef0123456789abcdef"
)

var (
	operator = store.Actor{Type: store.ActorOperator, ID: "1", Name: "otto"}
	fast     = kicker.Options{Poll: 50 * time.Millisecond, BackoffBase: 10 * time.Millisecond, BackoffMax: 50 * time.Millisecond,
		CallTimeout: 2 * time.Second}
)

// kickEnv is a database with a project that kicks on revoke, stores on it
// as separate console instances would open them, and the ZEGO fake.
type kickEnv struct {
	db   pgtest.DB
	keys *store.Keyring
	st   *store.Store
	fake *zegotest.Fake
	logs *webtest.SyncBuffer
}

func setup(t *testing.T, services ...string) *kickEnv {
	t.Helper()
	keys, err := store.NewKeyring(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	e := &kickEnv{db: pgtest.New(t), keys: keys, fake: zegotest.New(t, map[uint32]string{appID: secret}), logs: &webtest.SyncBuffer{}}
	e.st = e.open(t)
	if _, err := e.st.CreateProject(t.Context(), store.ProjectInput{Name: "Kicks", AppID: appID, Environment: "test",
		DefaultTTL: time.Hour, MaxTTL: 24 * time.Hour, PublishAllowed: true, KickOnRevoke: true, ZegoServices: services},
		[]byte(secret), operator, store.Origin{}); err != nil {
		t.Fatalf("create project: %v", err)
	}
	return e
}

// open opens another store as the runtime role: another console instance.
func (e *kickEnv) open(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(t.Context(), e.db.RuntimeURL, e.keys)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	return st
}

// startWorker runs a kick worker on st until the returned stop is called
// (or the test ends); stop waits for Run to return.
func (e *kickEnv) startWorker(t *testing.T, st *store.Store, opts kicker.Options) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	w := kicker.New(st, &zego.Client{BaseURL: e.fake.URL, HTTP: &http.Client{}},
		slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})), opts)
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.Run(ctx)
	}()
	var once sync.Once
	stop = func() {
		once.Do(cancel)
		<-done
	}
	t.Cleanup(stop)
	return stop
}

func (e *kickEnv) issue(t *testing.T, userID, roomID string) store.IssuedToken {
	t.Helper()
	it, err := e.st.IssueToken(t.Context(), store.IssueRequest{AppID: appID, UserID: userID, RoomID: roomID,
		Mode: token04.ModeGCM, Channel: store.ChannelAPI, Actor: operator})
	if err != nil {
		t.Fatalf("issue for %s in %s: %v", userID, roomID, err)
	}
	return it
}

func (e *kickEnv) count(t *testing.T, q string, args ...any) int {
	t.Helper()
	var n int
	if err := e.st.Pool().QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// waitQueueEmpty waits until no kick is queued.
func (e *kickEnv) waitQueueEmpty(t *testing.T, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for e.count(t, `SELECT count(*) FROM zego_kicks WHERE status = 'queued'`) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("kicks still queued after %v: %d; ZEGO fake received %d calls; worker logs:\n%.3000s", timeout,
				e.count(t, `SELECT count(*) FROM zego_kicks WHERE status = 'queued'`), len(e.fake.Calls()), e.logs)
		}
		<-tick.C
	}
}

// kickCounts counts how often the fake kicked each (service, room, user).
func kickCounts(calls []zegotest.Call) map[string]int {
	out := map[string]int{}
	for _, c := range calls {
		if c.Kicked() {
			for _, u := range c.UserIDs {
				out[c.Service+"/"+c.RoomID+"/"+u]++
			}
		}
	}
	return out
}

// wantEachKickedOnce fails unless every key of want was kicked exactly once
// and nothing else was.
func wantEachKickedOnce(t *testing.T, calls []zegotest.Call, want []string) {
	t.Helper()
	got := kickCounts(calls)
	for _, k := range want {
		if got[k] != 1 {
			t.Errorf("%s: kicked %d times, want once", k, got[k])
		}
	}
	if len(got) != len(want) {
		t.Errorf("got %d (service, room, user) kicked, want %d", len(got), len(want))
	}
}

// wantWithinLimits fails when a call carried more users than the product
// takes, was refused for its rate, or when more calls of a product than
// its limit arrived within any one second.
func wantWithinLimits(t *testing.T, calls []zegotest.Call) {
	t.Helper()
	for _, c := range calls {
		if n := len(c.UserIDs); n > zego.LimitsOf(c.Service).UsersPerCall {
			t.Errorf("%s call to %s carried %d users, more than %d", c.Service, c.RoomID, n, zego.LimitsOf(c.Service).UsersPerCall)
		}
		if c.Code == zego.CodeRateLimited || c.Code == zego.CodeRTCRateLimited {
			t.Errorf("%s call %s was refused for going over the rate limit", c.Service, c.RequestID)
		}
	}
	for _, service := range zego.Services {
		var at []time.Time
		for _, c := range calls {
			if c.Service == service {
				at = append(at, c.At)
			}
		}
		for i := range at {
			n := 0
			for j := i; j < len(at) && at[j].Sub(at[i]) < time.Second; j++ {
				n++
			}
			if n > zego.LimitsOf(service).CallsPerSecond {
				t.Errorf("%s: %d calls in the second from %s, more than %d", service, n, at[i].Format(time.StampMicro), zego.LimitsOf(service).CallsPerSecond)
			}
		}
	}
}

func TestKicker_RevokeKicksEachUserOutOfEachRoomExactlyOnceWithTwoInstances(t *testing.T) {
	t.Parallel()
	e := setup(t, zego.ServiceRTC, zego.ServiceZIM)
	var want []string
	var byID []store.IssuedToken
	for i := range 12 {
		u := fmt.Sprintf("student-%02d", i)
		byID = append(byID, e.issue(t, u, "class-1"))
		for _, s := range zego.Services {
			want = append(want, s+"/class-1/"+u)
		}
	}
	// A user with two tokens for one room and one for another, revoked at once.
	e.issue(t, "teacher", "class-1")
	e.issue(t, "teacher", "class-1")
	e.issue(t, "teacher", "staff-room")
	e.issue(t, "teacher", "") // no room: nothing to kick
	for _, s := range zego.Services {
		want = append(want, s+"/class-1/teacher", s+"/staff-room/teacher")
	}
	other := e.open(t)
	e.startWorker(t, e.st, fast)
	e.startWorker(t, other, fast)

	var wg sync.WaitGroup
	for i, it := range byID {
		st := []*store.Store{e.st, other}[i%2]
		wg.Go(func() {
			rec, err := st.RevokeToken(context.Background(), appID, it.Record.ID, "lesson over", operator, store.Origin{})
			if err != nil || rec.Kick != store.KickQueued {
				t.Errorf("revoke %s: got kick %q, %v; want queued", it.Record.UserID, rec.Kick, err)
			}
		})
	}
	wg.Go(func() {
		res, err := other.RevokeUserTokens(context.Background(), appID, "teacher", "left", operator, store.Origin{})
		if err != nil || res.Revoked != 4 || res.Kick != store.KickQueued {
			t.Errorf("revoke teacher: got %+v, %v; want 4 revoked, kicks queued", res, err)
		}
	})
	wg.Wait()
	e.waitQueueEmpty(t, 30*time.Second)

	calls := e.fake.Calls()
	wantEachKickedOnce(t, calls, want)
	wantWithinLimits(t, calls)
	if got := e.count(t, `SELECT count(*) FROM zego_kicks WHERE status = 'done'`); got != 2*(12+3) {
		t.Errorf("got %d kicks done, want %d (a row per token and product)", got, 2*(12+3))
	}
	states, err := e.st.TokenKicks(t.Context(), []string{byID[0].Record.ID})
	if err != nil || store.KickState(states[byID[0].Record.ID]) != store.KickDone {
		t.Errorf("token record: got kick %v, %v; want done", states, err)
	}
}

func TestKicker_UserWideRevokeOver120RoomsStaysWithinZEGOsLimits(t *testing.T) {
	t.Parallel()
	e := setup(t, zego.ServiceRTC, zego.ServiceZIM)
	var want []string
	for i := range 120 {
		room := fmt.Sprintf("room-%03d", i)
		e.issue(t, "alice", room)
		for _, s := range zego.Services {
			want = append(want, s+"/"+room+"/alice")
		}
	}
	// One room with more users than one call of either product takes.
	for i := range 60 {
		u := fmt.Sprintf("viewer-%02d", i)
		e.issue(t, u, "stage")
		for _, s := range zego.Services {
			want = append(want, s+"/stage/"+u)
		}
	}
	if _, err := e.st.RevokeUserTokens(t.Context(), appID, "alice", "", operator, store.Origin{}); err != nil {
		t.Fatal(err)
	}
	for i := range 60 {
		if _, err := e.st.RevokeUserTokens(t.Context(), appID, fmt.Sprintf("viewer-%02d", i), "", operator, store.Origin{}); err != nil {
			t.Fatal(err)
		}
	}
	e.startWorker(t, e.st, fast)
	e.startWorker(t, e.open(t), fast)
	e.waitQueueEmpty(t, 60*time.Second)

	calls := e.fake.Calls()
	wantEachKickedOnce(t, calls, want)
	wantWithinLimits(t, calls)
	var stageRTC, stageZIM []int
	for _, c := range calls {
		if c.RoomID == "stage" && c.Service == zego.ServiceRTC {
			stageRTC = append(stageRTC, len(c.UserIDs))
		}
		if c.RoomID == "stage" && c.Service == zego.ServiceZIM {
			stageZIM = append(stageZIM, len(c.UserIDs))
		}
	}
	slices.Sort(stageZIM)
	if len(stageRTC) != 12 || !slices.Equal(stageZIM, []int{10, 50}) {
		t.Errorf("60 users of one room: got RTC batches %v and ZIM batches %v; want 12 calls of 5 and ZIM calls of 50 and 10", stageRTC, stageZIM)
	}
	if got := len(calls); got != 120*2+12+2 {
		t.Errorf("got %d calls, want %d: one per room and product, batched", got, 120*2+12+2)
	}
}

func TestKicker_AFailingZEGOIsRetriedAndEachAttemptAudited(t *testing.T) {
	t.Parallel()
	e := setup(t, zego.ServiceZIM)
	e.fake.FailNext(zegotest.Unavailable, zegotest.Busy, zegotest.RateLimited, zegotest.Hang)
	it := e.issue(t, "bob", "room-9")
	if _, err := e.st.RevokeToken(t.Context(), appID, it.Record.ID, "", operator, store.Origin{}); err != nil {
		t.Fatal(err)
	}
	opts := fast
	opts.CallTimeout = 300 * time.Millisecond // the hanging call times out
	e.startWorker(t, e.st, opts)
	e.waitQueueEmpty(t, 30*time.Second)

	calls := e.fake.Calls()
	if len(calls) != 5 || !calls[4].Kicked() {
		t.Fatalf("got %d calls (%+v), want 4 failures then a kick", len(calls), calls)
	}
	rows, err := e.st.Pool().Query(t.Context(), `SELECT outcome, details->>'result', details->>'attempt',
			coalesce(details->>'code', ''), details->>'request_id', coalesce(details->>'error', ''), details::text
		FROM audit_events WHERE action = 'zego.kickout' ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var outcome, result, attempt, code, requestID, errText, details string
		if err := rows.Scan(&outcome, &result, &attempt, &code, &requestID, &errText, &details); err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%s %s #%s code=%s rid=%s timeout=%v", outcome, result, attempt, code, requestID,
			strings.Contains(errText, "deadline exceeded") || strings.Contains(errText, "Timeout")))
		for _, c := range calls {
			if strings.Contains(details, c.Signature) {
				t.Errorf("audit event holds a request's signature: %s", details)
			}
		}
	}
	want := []string{
		"error retry #1 code= rid= timeout=false",                            // HTTP 503
		"error retry #2 code=1 rid=" + calls[1].RequestID + " timeout=false", // busy
		"error retry #3 code=7 rid=" + calls[2].RequestID + " timeout=false", // rate limited
		"error retry #4 code= rid= timeout=true",                             // no answer in time
		"success done #5 code=0 rid=" + calls[4].RequestID + " timeout=false",
	}
	if !slices.Equal(got, want) {
		t.Errorf("zego.kickout events:\n got %q\nwant %q", got, want)
	}
	for _, c := range calls {
		if strings.Contains(e.logs.String(), c.Signature) || strings.Contains(e.logs.String(), secret) {
			t.Errorf("the worker's logs hold a signature or the secret")
		}
	}
	var code int64
	var message, requestID string
	if err := e.st.Pool().QueryRow(t.Context(), `SELECT code, message, request_id FROM zego_kicks`).Scan(&code, &message, &requestID); err != nil ||
		code != 0 || message != "success" || requestID != calls[4].RequestID {
		t.Errorf("kick row: got code %d, message %q, request id %q (%v); want ZEGO's last answer", code, message, requestID, err)
	}
}

func TestKicker_AWrongSecretFailsAtOnceAndTheTokenRecordSaysSo(t *testing.T) {
	t.Parallel()
	e := setup(t, zego.ServiceRTC)
	e.fake = zegotest.New(t, map[uint32]string{appID: "another-secret-0123456789abcdef0"})
	it := e.issue(t, "carol", "room-1")
	if _, err := e.st.RevokeToken(t.Context(), appID, it.Record.ID, "", operator, store.Origin{}); err != nil {
		t.Fatal(err)
	}
	e.startWorker(t, e.st, fast)
	e.waitQueueEmpty(t, 30*time.Second)
	calls := e.fake.Calls()
	if len(calls) != 1 || calls[0].Code != zego.CodeBadSignature {
		t.Fatalf("got calls %+v, want one, refused for its signature", calls)
	}
	states, err := e.st.TokenKicks(t.Context(), []string{it.Record.ID})
	if err != nil || store.KickState(states[it.Record.ID]) != store.KickFailed {
		t.Fatalf("got %v, %v; want the token's kick failed", states, err)
	}
	k := states[it.Record.ID][0]
	if k.Code == nil || *k.Code != zego.CodeBadSignature || k.Message != "Invalid signature." || k.RequestID != calls[0].RequestID || k.Attempts != 1 {
		t.Errorf("the token's kick: got %+v, want ZEGO's Code, Message and RequestId after one attempt", k)
	}
	if n := e.count(t, `SELECT count(*) FROM audit_events WHERE action = 'zego.kickout' AND outcome = 'error'
			AND details->>'result' = 'failed' AND (details->>'code')::bigint = $1`, zego.CodeBadSignature); n != 1 {
		t.Errorf("got %d failed zego.kickout events with ZEGO's code, want 1", n)
	}
}

func TestKicker_AUserNotInTheRoomCountsAsDone(t *testing.T) {
	t.Parallel()
	e := setup(t, zego.ServiceRTC, zego.ServiceZIM)
	e.fake.Gone("closed-room")
	it := e.issue(t, "dan", "closed-room")
	if _, err := e.st.RevokeToken(t.Context(), appID, it.Record.ID, "", operator, store.Origin{}); err != nil {
		t.Fatal(err)
	}
	e.startWorker(t, e.st, fast)
	e.waitQueueEmpty(t, 30*time.Second)
	if calls := e.fake.Calls(); len(calls) != 2 || calls[0].Code == 0 || calls[1].Code == 0 {
		t.Fatalf("got calls %+v, want one per product, answered 'not in the room'", calls)
	}
	states, err := e.st.TokenKicks(t.Context(), []string{it.Record.ID})
	if err != nil || store.KickState(states[it.Record.ID]) != store.KickDone {
		t.Fatalf("got %v, %v; want done", states, err)
	}
}

func TestKicker_NoKickWithoutKickOnRevokeOrWithoutARoom(t *testing.T) {
	t.Parallel()
	e := setup(t, zego.ServiceRTC)
	noRoom := e.issue(t, "erin", "")
	if rec, err := e.st.RevokeToken(t.Context(), appID, noRoom.Record.ID, "", operator, store.Origin{}); err != nil || rec.Kick != "" {
		t.Fatalf("a token without a room: got kick %q, %v; want none", rec.Kick, err)
	}
	p, err := e.st.ProjectByAppID(t.Context(), appID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.UpdateProject(t.Context(), appID, store.ProjectInput{Name: p.Name, Environment: p.Environment,
		DefaultTTL: p.DefaultTTL(), MaxTTL: p.MaxTTL(), PublishAllowed: true, KickOnRevoke: false}, operator, store.Origin{}); err != nil {
		t.Fatal(err)
	}
	inRoom := e.issue(t, "erin", "room-1")
	if rec, err := e.st.RevokeToken(t.Context(), appID, inRoom.Record.ID, "", operator, store.Origin{}); err != nil || rec.Kick != "" {
		t.Fatalf("kick on revoke turned off: got kick %q, %v; want none", rec.Kick, err)
	}
	if n := e.count(t, `SELECT count(*) FROM zego_kicks`); n != 0 {
		t.Fatalf("got %d kicks queued, want none", n)
	}
}

func TestKicker_AStopWaitsForTheCallUnderWayAndARestartDeliversTheRestOnce(t *testing.T) {
	t.Parallel()
	e := setup(t, zego.ServiceRTC)
	var want []string
	for i := range 3 {
		room := fmt.Sprintf("room-%d", i)
		e.issue(t, "fay", room)
		want = append(want, "rtc/"+room+"/fay")
	}
	e.fake.Block()
	if _, err := e.st.RevokeUserTokens(t.Context(), appID, "fay", "", operator, store.Origin{}); err != nil {
		t.Fatal(err)
	}
	opts := fast
	opts.Workers = 1
	stop := e.startWorker(t, e.st, opts)
	e.fake.WaitFor(10*time.Second, "a call under way", func(calls []zegotest.Call) bool { return len(calls) == 1 })
	stopped := make(chan struct{})
	go func() {
		stop() // the console shuts down while ZEGO has not answered yet
		close(stopped)
	}()
	e.fake.Release()
	<-stopped
	if n := e.count(t, `SELECT count(*) FROM zego_kicks WHERE status = 'done'`); n != 1 {
		t.Fatalf("after the stop: got %d kicks done, want the one under way recorded", n)
	}
	e.startWorker(t, e.open(t), opts) // the console again
	e.waitQueueEmpty(t, 30*time.Second)
	wantEachKickedOnce(t, e.fake.Calls(), want)
}
