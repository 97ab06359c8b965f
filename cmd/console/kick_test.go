package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zegocloud-console/console/internal/pgtest"
	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/zego"
	"github.com/zegocloud-console/console/internal/zego/zegotest"
)

func TestServe_ABadZEGOAPIBaseIsExit2(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"CONSOLE_ZEGO_API_BASE", "CONSOLE_ZEGO_RTC_API_BASE", "CONSOLE_ZEGO_ZIM_API_BASE"} {
		r := runAdminCLI(t, "", map[string]string{"DATABASE_URL": "postgres://nowhere/x", "CONSOLE_DEV": "true",
			"CONSOLE_DATA_DIR": t.TempDir(), name: "ftp://zego.example/"}, "serve")
		if r.code != 2 || !strings.Contains(r.stderr, name) {
			t.Errorf("%s=ftp://…: got exit %d, %q; want 2 naming the variable", name, r.code, r.stderr)
		}
	}
}

func TestServe_KicksReachZEGOOnceAcrossTwoConsolesAndARestart(t *testing.T) {
	t.Parallel()
	const appID = 616161
	masterKey := opsNewMasterKey(t)
	dbURL := pgtest.New(t).RuntimeURL
	st := opsOpenStore(t, dbURL, masterKey)
	setup := store.Actor{Type: store.ActorSystem, Name: "kick-test"}
	if _, err := st.CreateProject(t.Context(), store.ProjectInput{Name: "Kicks", AppID: appID, Environment: "prod", DefaultTTL: time.Hour,
		MaxTTL: 24 * time.Hour, KickOnRevoke: true, ZegoServices: []string{zego.ServiceRTC, zego.ServiceZIM}},
		[]byte(opsSecret), setup, store.Origin{}); err != nil {
		t.Fatal(err)
	}
	apiKey, _, err := st.CreateAPIKey(t.Context(), store.APIKeyInput{Name: "kick-test", AppIDs: []uint32{appID},
		Scopes: []string{store.ScopeIssue, store.ScopeRevoke}}, setup, store.Origin{})
	if err != nil {
		t.Fatal(err)
	}
	// Every product at one stand-in, but In-app Chat at one of its own.
	secrets := map[uint32]string{appID: opsSecret}
	rtc, zim := zegotest.New(t, secrets), zegotest.New(t, secrets, zegotest.OnlyService(zego.ServiceZIM))
	environ := map[string]string{"DATABASE_URL": dbURL, "CONSOLE_MASTER_KEY": masterKey, "CONSOLE_ADMIN_PASSWORD": "kick-test-admin-pw",
		"CONSOLE_ZEGO_API_BASE": rtc.URL, "CONSOLE_ZEGO_ZIM_API_BASE": zim.URL}
	a, b := startInproc(t, environ), startInproc(t, environ)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var ids []string
	want := map[string]bool{}
	for i := range 8 {
		user := fmt.Sprintf("viewer-%d", i)
		ans := opsPost(ctx, a.Client, fmt.Sprintf("%s/api/v1/projects/%d/tokens", a.URL, appID), apiKey,
			map[string]any{"user_id": user, "room_id": "stage"})
		if ans.Status != http.StatusCreated {
			t.Fatalf("issue: got %d %s", ans.Status, ans.Body)
		}
		ids = append(ids, ans.ID)
		want["rtc/stage/"+user], want["zim/stage/"+user] = true, true
	}
	rtc.Block()
	zim.Block()
	var wg sync.WaitGroup
	for i, id := range ids {
		c := []*inprocConsole{a, b}[i%2]
		wg.Go(func() {
			ans := opsRevoke(ctx, c.Client, c.URL, apiKey, appID, id)
			if ans.Status != http.StatusOK || !strings.Contains(ans.Body, `"kick":"queued"`) {
				t.Errorf("revoke on %s while ZEGO hangs: got %d %s, want 200 with the kick queued", c.Addr, ans.Status, ans.Body)
			}
		})
	}
	wg.Wait()
	rtc.WaitFor(20*time.Second, "an RTC kick under way", func(calls []zegotest.Call) bool { return len(calls) > 0 })

	stopped := make(chan error, 1)
	go func() { stopped <- a.stop(t) }() // a console restarts while ZEGO has not answered
	rtc.Release()
	zim.Release()
	if err := <-stopped; err != nil {
		t.Fatalf("stop: got %v, want nil", err)
	}
	again := startInproc(t, environ)

	opsPoll(t, 60*time.Second, "every kick delivered", func() (bool, string) {
		var queued int
		err := st.Pool().QueryRow(context.Background(), `SELECT count(*) FROM zego_kicks WHERE status <> 'done'`).Scan(&queued)
		return err == nil && queued == 0, fmt.Sprintf("%d kicks not done (%v)", queued, err)
	})
	got := map[string]int{}
	for _, fake := range []*zegotest.Fake{rtc, zim} {
		for _, c := range fake.Kicks() {
			if fake == rtc && c.Service != zego.ServiceRTC {
				t.Errorf("the general base URL got a %s call; In-app Chat has a base URL of its own", c.Service)
			}
			for _, u := range c.UserIDs {
				got[c.Service+"/"+c.RoomID+"/"+u]++
			}
		}
	}
	for k := range want {
		if got[k] != 1 {
			t.Errorf("%s: kicked %d times, want once", k, got[k])
		}
	}
	if len(got) != len(want) {
		t.Errorf("got %d (service, room, user) kicked, want %d", len(got), len(want))
	}
	var logs bytes.Buffer
	logs.WriteString(a.Log.String())
	logs.WriteString(b.Log.String())
	logs.WriteString(again.Log.String())
	for _, fake := range []*zegotest.Fake{rtc, zim} {
		for _, c := range fake.Calls() {
			if strings.Contains(logs.String(), c.Signature) {
				t.Errorf("a console's log holds a request's signature")
			}
		}
	}
}
