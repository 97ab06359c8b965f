package store

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/zegocloud-console/console/internal/zego"
)

// createKickProject makes a project that kicks on revoke in services.
func (b bundle) createKickProject(t *testing.T, appID uint32, services ...string) {
	t.Helper()
	if _, err := b.st.CreateProject(b.ctx, ProjectInput{Name: "Kicks", AppID: appID, Environment: "test", DefaultTTL: time.Hour,
		MaxTTL: 24 * time.Hour, KickOnRevoke: true, ZegoServices: services, ZegoRegion: "fra"}, []byte(testSecret), testActor, testOrigin); err != nil {
		t.Fatalf("create project: %v", err)
	}
}

func usersPerCall(service string) int { return zego.LimitsOf(service).UsersPerCall }

func TestDeliverKick_ARoomBeingDeliveredByOneInstanceIsNotDeliveredByAnother(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.createKickProject(t, 42, zego.ServiceRTC)
	it := issue(t, b, IssueRequest{AppID: 42, UserID: "alice", RoomID: "room-1"})
	if _, err := b.st.RevokeToken(b.ctx, 42, it.Record.ID, "", testActor, testOrigin); err != nil {
		t.Fatal(err)
	}
	other := b.open(t)
	calling, answer := make(chan KickBatch, 1), make(chan struct{})
	firstDone := make(chan error, 1)
	go func() {
		_, err := b.st.DeliverKick(b.ctx, usersPerCall, func(_ context.Context, kb KickBatch) KickAttempt {
			calling <- kb
			<-answer
			return KickAttempt{State: KickDone, Message: "success"}
		})
		firstDone <- err
	}()
	kb := <-calling
	if kb.AppID != 42 || kb.Service != zego.ServiceRTC || kb.Region != "fra" || kb.RoomID != "room-1" ||
		!slices.Equal(kb.UserIDs, []string{"alice"}) || kb.Attempt != 1 || string(kb.Secret) != testSecret {
		t.Fatalf("got batch %+v, want alice out of room-1, RTC, fra, first attempt, signed with the project's secret", kb)
	}
	found, err := other.DeliverKick(b.ctx, usersPerCall, func(context.Context, KickBatch) KickAttempt {
		t.Error("a second instance delivered a kick under way")
		return KickAttempt{State: KickDone}
	})
	if err != nil || found {
		t.Fatalf("second instance: got found=%v, %v; want nothing to deliver", found, err)
	}
	close(answer)
	if err := <-firstDone; err != nil {
		t.Fatal(err)
	}
	states, err := b.st.TokenKicks(b.ctx, []string{it.Record.ID})
	if err != nil || KickState(states[it.Record.ID]) != KickDone {
		t.Fatalf("got %v, %v; want done", states, err)
	}
	if n := b.queryInt(t, `SELECT count(*) FROM audit_events WHERE action = 'zego.kickout' AND outcome = 'success'`); n != 1 {
		t.Errorf("got %d zego.kickout events, want 1", n)
	}
}

func TestDeliverKick_ARetryWaitsItsTurnAndTheRevokeAnswerShowsTheState(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.createKickProject(t, 42, zego.ServiceRTC, zego.ServiceZIM)
	it := issue(t, b, IssueRequest{AppID: 42, UserID: "alice", RoomID: "room-1"})
	rec, err := b.st.RevokeToken(b.ctx, 42, it.Record.ID, "", testActor, testOrigin)
	if err != nil || rec.Kick != KickQueued {
		t.Fatalf("revoke: got kick %q, %v; want queued", rec.Kick, err)
	}
	code := int64(zego.CodeBusy)
	for range 2 { // one per product
		if _, err := b.st.DeliverKick(b.ctx, usersPerCall, func(context.Context, KickBatch) KickAttempt {
			return KickAttempt{State: KickQueued, RetryIn: time.Hour, Code: &code, Message: "busy", RequestID: "r1"}
		}); err != nil {
			t.Fatal(err)
		}
	}
	if found, err := b.st.DeliverKick(b.ctx, usersPerCall, func(context.Context, KickBatch) KickAttempt {
		t.Error("a kick was delivered before its retry was due")
		return KickAttempt{}
	}); err != nil || found {
		t.Fatalf("before the retry is due: got found=%v, %v; want nothing", found, err)
	}
	if d, ok, err := b.st.NextKickIn(b.ctx); err != nil || !ok || d < 59*time.Minute {
		t.Fatalf("next kick: got %v, %v, %v; want in about an hour", d, ok, err)
	}
	again, err := b.st.RevokeToken(b.ctx, 42, it.Record.ID, "", testActor, testOrigin)
	if err != nil || again.Kick != KickQueued {
		t.Fatalf("revoking again: got kick %q, %v; want the kick still queued", again.Kick, err)
	}
	if _, err := b.owner.Pool().Exec(b.ctx, `UPDATE zego_kicks SET status = 'failed' WHERE service = 'zim'`); err != nil {
		t.Fatal(err)
	}
	if _, err := b.owner.Pool().Exec(b.ctx, `UPDATE zego_kicks SET status = 'done' WHERE service = 'rtc'`); err != nil {
		t.Fatal(err)
	}
	if again, _ := b.st.RevokeToken(b.ctx, 42, it.Record.ID, "", testActor, testOrigin); again.Kick != KickFailed {
		t.Fatalf("one product failed: got kick %q, want failed", again.Kick)
	}
}

func TestReserveZegoCall_SpacesCallsOfAProductAcrossInstances(t *testing.T) {
	t.Parallel()
	b := setup(t)
	other := b.open(t)
	spacing := time.Hour // so that the database's clock moves nowhere near it during the test
	var waits []time.Duration
	for i := range 3 {
		st := []*Store{b.st, other}[i%2]
		w, err := st.ReserveZegoCall(b.ctx, 42, zego.ServiceZIM, spacing)
		if err != nil {
			t.Fatal(err)
		}
		waits = append(waits, w.Round(time.Minute))
	}
	if want := []time.Duration{0, time.Hour, 2 * time.Hour}; !slices.Equal(waits, want) {
		t.Fatalf("got waits %v, want %v", waits, want)
	}
	if w, err := b.st.ReserveZegoCall(b.ctx, 42, zego.ServiceRTC, spacing); err != nil || w != 0 {
		t.Fatalf("another product: got wait %v, %v; want none", w, err)
	}
}

func TestProjectZegoSettings_DefaultsAndRefusals(t *testing.T) {
	t.Parallel()
	b := setup(t)
	p := b.createProject(t, 42)
	if p.KickOnRevoke || !slices.Equal(p.ZegoServices, []string{zego.ServiceRTC}) || p.ZegoRegion != zego.RegionGlobal {
		t.Fatalf("defaults: got kick %v, services %v, region %q; want off, rtc, global", p.KickOnRevoke, p.ZegoServices, p.ZegoRegion)
	}
	in := ProjectInput{Name: "Demo", Environment: "test", DefaultTTL: time.Hour, MaxTTL: time.Hour,
		KickOnRevoke: true, ZegoServices: []string{"zim", "rtc", "zim"}, ZegoRegion: "sgp"}
	p, err := b.st.UpdateProject(b.ctx, 42, in, testActor, testOrigin)
	if err != nil || !p.KickOnRevoke || !slices.Equal(p.ZegoServices, []string{"rtc", "zim"}) || p.ZegoRegion != "sgp" {
		t.Fatalf("update: got %+v, %v; want kick on, rtc and zim, sgp", p, err)
	}
	for _, tc := range []struct {
		services []string
		region   string
		field    string
	}{
		{[]string{}, "", "zego_services"},
		{[]string{"rtc", "voice"}, "", "zego_services"},
		{nil, "mars", "zego_region"},
	} {
		in.ZegoServices, in.ZegoRegion = tc.services, tc.region
		_, err := b.st.UpdateProject(b.ctx, 42, in, testActor, testOrigin)
		wantField(t, err, tc.field)
	}
}

// An empty queue has no next kick: a worker told "one is due now" would
// ask again at once, forever, and keep a core and the database busy while
// the console is idle.
func TestNextKickIn_NoneWhenNothingIsQueued(t *testing.T) {
	t.Parallel()
	b := setup(t)
	if d, ok, err := b.st.NextKickIn(b.ctx); err != nil || ok {
		t.Fatalf("empty queue: got %v, %v, %v; want none queued", d, ok, err)
	}
	b.createKickProject(t, 42, zego.ServiceRTC)
	it := issue(t, b, IssueRequest{AppID: 42, UserID: "alice", RoomID: "room-1"})
	if _, err := b.st.RevokeToken(b.ctx, 42, it.Record.ID, "", testActor, testOrigin); err != nil {
		t.Fatal(err)
	}
	if d, ok, err := b.st.NextKickIn(b.ctx); err != nil || !ok || d != 0 {
		t.Fatalf("a kick queued: got %v, %v, %v; want one due now", d, ok, err)
	}
	if _, err := b.owner.Pool().Exec(b.ctx, `UPDATE zego_kicks SET status = 'done'`); err != nil {
		t.Fatal(err)
	}
	if d, ok, err := b.st.NextKickIn(b.ctx); err != nil || ok {
		t.Fatalf("every kick done: got %v, %v, %v; want none queued", d, ok, err)
	}
}
