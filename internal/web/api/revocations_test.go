package api_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/web/webtest"
	"github.com/zegocloud-console/console/internal/zego"
	"github.com/zegocloud-console/console/internal/zego/zegotest"
)

// createKickProject adds a project that kicks on revoke in RTC and ZIM.
func (a *apiEnv) createKickProject(t *testing.T, appID uint32) {
	t.Helper()
	if _, err := a.Store.CreateProject(t.Context(), store.ProjectInput{Name: "Kicks", AppID: appID, Environment: "prod",
		DefaultTTL: time.Hour, MaxTTL: 24 * time.Hour, PublishAllowed: true, KickOnRevoke: true,
		ZegoServices: []string{zego.ServiceRTC, zego.ServiceZIM}, ZegoRegion: "sgp"}, []byte(webtest.TestSecret), webtest.AdminActor, store.Origin{}); err != nil {
		t.Fatalf("create project: %v", err)
	}
}

// kickOf reads the kick field of a JSON answer.
func kickOf(t *testing.T, res apiResponse) string {
	t.Helper()
	var v struct{ Kick string }
	res.decode(t, &v)
	return v.Kick
}

func TestAPIRevoke_AnswersWhileZEGOHangsAndTheRecordFollowsTheKick(t *testing.T) {
	t.Parallel()
	a := newAPIEnv(t)
	a.createKickProject(t, 1001)
	fake := zegotest.New(t, map[uint32]string{1001: webtest.TestSecret})
	fake.Block() // ZEGO does not answer until Release
	a.RunKicker(t, fake.URL)
	key := a.key(t, allAPIScopes, 1001)
	first := a.issue(t, key, "1001", map[string]any{"user_id": "alice", "room_id": "r1"})
	byValue := a.issue(t, key, "1001", map[string]any{"user_id": "bob", "room_id": "r2"})
	a.issue(t, key, "1001", map[string]any{"user_id": "carol", "room_id": "r3"})

	res := a.post(t, "/api/v1/projects/1001/tokens/"+first.ID+"/revoke", key, map[string]string{})
	if res.status != http.StatusOK || kickOf(t, res) != "queued" {
		t.Fatalf("revoke by id: got %d %s, want 200 with kick queued", res.status, res.body)
	}
	fake.WaitFor(10*time.Second, "a kick under way", func(calls []zegotest.Call) bool { return len(calls) > 0 })
	// ZEGO holds that call; the revocations below answer all the same.
	res = a.post(t, "/api/v1/tokens/revoke", key, map[string]string{"token": byValue.Token})
	if res.status != http.StatusOK || string(bytes.TrimSpace(res.body)) != `{"revoked":true,"kick":"queued"}` {
		t.Fatalf("revoke by value while ZEGO hangs: got %d %s, want 200 revoked with kick queued", res.status, res.body)
	}
	res = a.post(t, "/api/v1/projects/1001/users/carol/revoke", key, map[string]string{})
	if res.status != http.StatusOK || kickOf(t, res) != "queued" {
		t.Fatalf("revoke user while ZEGO hangs: got %d %s, want 200 with kick queued", res.status, res.body)
	}
	if got := kickOf(t, a.get(t, "/api/v1/projects/1001/tokens/"+first.ID, key)); got != "queued" {
		t.Fatalf("the record while ZEGO hangs: got kick %q, want queued", got)
	}
	fake.Release()

	deadline, tick := time.Now().Add(30*time.Second), time.NewTicker(20*time.Millisecond)
	defer tick.Stop()
	for kickOf(t, a.get(t, "/api/v1/projects/1001/tokens/"+first.ID, key)) != "done" {
		if time.Now().After(deadline) {
			t.Fatalf("the record never said the kick was done; ZEGO fake got %+v", fake.Calls())
		}
		<-tick.C
	}
	var record struct {
		Kick  string
		Kicks []struct {
			Service, Status, Message string
			RoomID                   string `json:"room_id"`
			RequestID                string `json:"request_id"`
			Code                     *int64
			Attempts                 int
		}
	}
	a.get(t, "/api/v1/projects/1001/tokens/"+first.ID, key).decode(t, &record)
	if len(record.Kicks) != 2 {
		t.Fatalf("the record's kicks: got %+v, want one per product", record.Kicks)
	}
	for i, k := range record.Kicks {
		if k.Service != zego.Services[i] || k.RoomID != "r1" || k.Status != "done" || k.Code == nil || *k.Code != 0 ||
			k.Message != "success" || !strings.HasPrefix(k.RequestID, "fake-") || k.Attempts != 1 {
			t.Errorf("kick %d on the record: got %+v, want done with ZEGO's Code 0, Message and RequestId", i, k)
		}
	}
	// Revoking again answers the record with where its kick is now.
	if got := kickOf(t, a.post(t, "/api/v1/projects/1001/tokens/"+first.ID+"/revoke", key, map[string]string{})); got != "done" {
		t.Errorf("revoking again: got kick %q, want done", got)
	}
	fake.WaitFor(30*time.Second, "every user kicked in both products", func(calls []zegotest.Call) bool {
		kicked := map[string]bool{}
		for _, c := range calls {
			if c.Kicked() {
				for _, u := range c.UserIDs {
					kicked[c.Service+"/"+c.RoomID+"/"+u] = true
				}
			}
		}
		return len(kicked) == 6
	})
	for _, c := range fake.Calls() {
		if strings.Contains(a.Logs.String(), c.Signature) {
			t.Errorf("the server logs hold a request's signature")
		}
	}
}

func TestAPIProjects_ShowTheZEGOSettings(t *testing.T) {
	t.Parallel()
	a := newAPIEnv(t)
	a.createKickProject(t, 1001)
	a.CreateProject(t, 1002)
	key := a.key(t, allAPIScopes, 1001, 1002)
	var list struct {
		Projects []struct {
			AppID        uint32   `json:"app_id"`
			KickOnRevoke bool     `json:"kick_on_revoke"`
			ZegoServices []string `json:"zego_services"`
			ZegoRegion   string   `json:"zego_region"`
		}
	}
	a.get(t, "/api/v1/projects", key).decode(t, &list)
	got := map[uint32]string{}
	for _, p := range list.Projects {
		got[p.AppID] = strconv.FormatBool(p.KickOnRevoke) + " " + strings.Join(p.ZegoServices, ",") + " " + p.ZegoRegion
	}
	if got[1001] != "true rtc,zim sgp" || got[1002] != "false rtc global" {
		t.Fatalf("got %v, want 1001 kicking in rtc and zim via sgp, 1002 the defaults", got)
	}
}

// feedLines reads an NDJSON feed answer, checking each line against the
// Revocation schema.
func feedLines(t *testing.T, res apiResponse) []map[string]any {
	t.Helper()
	if res.status != http.StatusOK || res.header.Get("Content-Type") != "application/x-ndjson" {
		t.Fatalf("feed: got %d %q %s, want 200 NDJSON", res.status, res.header.Get("Content-Type"), res.body)
	}
	doc, _ := openAPI()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(res.body))
	for sc.Scan() {
		validateSchema(t, doc, "Revocation", sc.Bytes())
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatal(err)
		}
		out = append(out, line)
	}
	return out
}

func TestAPIRevocationFeed_LongPollAnswersWhenARevocationCommits(t *testing.T) {
	t.Parallel()
	a := newAPIEnv(t)
	a.CreateProject(t, 1001)
	key := a.key(t, allAPIScopes, 1001)
	tok := a.issue(t, key, "1001", map[string]any{"user_id": "alice", "room_id": "r1"})

	res := a.get(t, "/api/v1/revocations?after=0", key)
	if lines := feedLines(t, res); len(lines) != 0 || res.header.Get("Revocation-Cursor") != "0" {
		t.Fatalf("an empty feed: got %v, cursor %q; want nothing and cursor 0", lines, res.header.Get("Revocation-Cursor"))
	}
	answered := make(chan apiResponse, 1)
	go func() { answered <- a.get(t, "/api/v1/revocations?after=0&wait=30s", key) }()
	a.post(t, "/api/v1/projects/1001/tokens/"+tok.ID+"/revoke", key, map[string]string{})
	var got apiResponse
	select {
	case got = <-answered:
	case <-time.After(30 * time.Second):
		t.Fatal("the long poll did not answer the revocation")
	}
	lines := feedLines(t, got)
	if len(lines) != 1 || lines[0]["token_id"] != tok.ID || lines[0]["seq"] != 1.0 || lines[0]["fingerprint"] != tok.Fingerprint ||
		lines[0]["user_id"] != "alice" || lines[0]["room_id"] != "r1" || got.header.Get("Revocation-Cursor") != "1" {
		t.Fatalf("got %v with cursor %q, want alice's token at seq 1, cursor 1", lines, got.header.Get("Revocation-Cursor"))
	}
}

// snapshotAnswer is the API's answer with a snapshot of the revocations.
type snapshotAnswer struct {
	Seq         int64
	Revocations []map[string]any
}

func TestAPIRevocationFeed_NeedsTheScopeAndShowsOnlyTheKeysProjects(t *testing.T) {
	t.Parallel()
	a := newAPIEnv(t)
	a.CreateProject(t, 1001)
	a.CreateProject(t, 1002)
	admin := a.key(t, allAPIScopes, 1001, 1002)
	for _, app := range []string{"1001", "1002", "1002"} {
		tok := a.issue(t, admin, app, map[string]any{"user_id": "u" + app})
		a.post(t, "/api/v1/projects/"+app+"/tokens/"+tok.ID+"/revoke", admin, map[string]string{})
	}
	noScope := a.key(t, []string{store.ScopeRevoke, store.ScopeAuditRead}, 1001)
	a.get(t, "/api/v1/revocations", noScope).wantProblem(t, http.StatusForbidden, "forbidden")
	a.get(t, "/api/v1/revocations/snapshot", noScope).wantProblem(t, http.StatusForbidden, "forbidden")
	if n := a.Events(t, "authz.denied", "denied"); n < 2 {
		t.Errorf("got %d audited denials, want the two refusals audited", n)
	}

	only1001 := a.key(t, []string{store.ScopeRevocationsRead}, 1001)
	res := a.get(t, "/api/v1/revocations", only1001)
	lines := feedLines(t, res)
	if len(lines) != 1 || lines[0]["app_id"] != 1001.0 || res.header.Get("Revocation-Cursor") != "3" {
		t.Fatalf("got %v, cursor %q; want project 1001's revocation only, cursor past the others (3)", lines, res.header.Get("Revocation-Cursor"))
	}
	var snap snapshotAnswer
	a.get(t, "/api/v1/revocations/snapshot", only1001).decode(t, &snap)
	if snap.Seq != 3 || len(snap.Revocations) != 1 || snap.Revocations[0]["app_id"] != 1001.0 {
		t.Fatalf("snapshot: got %+v, want seq 3 and project 1001's revocation", snap)
	}
}

func TestAPIRevocationFeed_AnOldCursorIsGoneAndTheSnapshotRecovers(t *testing.T) {
	t.Parallel()
	a := newAPIEnv(t)
	a.CreateProject(t, 1001)
	key := a.key(t, allAPIScopes, 1001)
	old := a.IssueAt(t, 1001, "old", time.Now().Add(-3*time.Hour))
	live := a.issue(t, key, "1001", map[string]any{"user_id": "new"})
	for _, id := range []string{old.Record.ID, live.ID} {
		a.post(t, "/api/v1/projects/1001/tokens/"+id+"/revoke", key, map[string]string{})
	}
	if _, err := a.Store.PruneRevocations(t.Context(), time.Now().Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	p := a.get(t, "/api/v1/revocations?after=0", key).wantProblem(t, http.StatusGone, "cursor-gone")
	if !strings.Contains(p.Detail, "/api/v1/revocations/snapshot") {
		t.Errorf("got detail %q, want it to point at the snapshot", p.Detail)
	}
	var snap snapshotAnswer
	res := a.get(t, "/api/v1/revocations/snapshot", key)
	res.decode(t, &snap)
	if snap.Seq != 2 || len(snap.Revocations) != 1 || snap.Revocations[0]["token_id"] != live.ID {
		t.Fatalf("snapshot: got %+v, want seq 2 and the unexpired revocation", snap)
	}
	res = a.get(t, "/api/v1/revocations?after="+strconv.FormatInt(snap.Seq, 10), key)
	if lines := feedLines(t, res); len(lines) != 0 || res.header.Get("Revocation-Cursor") != "2" {
		t.Fatalf("following from the snapshot: got %v, cursor %q; want nothing new, cursor 2", lines, res.header.Get("Revocation-Cursor"))
	}
}

func TestAPIRevocationFeed_RefusesABadQuery(t *testing.T) {
	t.Parallel()
	a := newAPIEnv(t)
	a.CreateProject(t, 1001)
	key := a.key(t, allAPIScopes, 1001)
	for query, field := range map[string]string{
		"after=-1":          "after",
		"after=x":           "after",
		"wait=2m":           "wait",
		"wait=soon":         "wait",
		"after=1&after=2":   "after",
		"cursor=1":          "cursor",
		"after=0&token=abc": "token",
	} {
		p := a.get(t, "/api/v1/revocations?"+query, key).wantProblem(t, http.StatusBadRequest, "bad-filter")
		if _, ok := p.Errors[field]; !ok {
			t.Errorf("%s: got errors %v, want one on %q", query, p.Errors, field)
		}
	}
	p := a.get(t, "/api/v1/revocations/snapshot?after=1", key).wantProblem(t, http.StatusBadRequest, "bad-filter")
	if !slices.Contains([]string{"after"}, firstKey(p.Errors)) {
		t.Errorf("snapshot with a parameter: got errors %v, want one on after", p.Errors)
	}
}

func firstKey(m map[string]string) string {
	for k := range m {
		return k
	}
	return ""
}
