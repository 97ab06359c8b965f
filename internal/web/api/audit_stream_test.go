package api_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/web/webtest"
)

// streamedEvent is what tests read of a streamed event.
type streamedEvent struct {
	ChainSeq *int64  `json:"chain_seq"`
	PrevHash *string `json:"prev_hash"`
	Hash     *string `json:"hash"`
	AppID    *int64  `json:"app_id"`
	Action   string  `json:"action"`
}

// auditSome writes n events of project appID and n of project 0 (none),
// and seals them.
func (a *apiEnv) auditSome(t *testing.T, appID uint32, n int) {
	t.Helper()
	for i := range n {
		for _, app := range []uint32{appID, 0} {
			if err := a.Store.Audit(t.Context(), store.Event{Actor: webtest.AdminActor, Action: "token.issue",
				Outcome: store.OutcomeSuccess, AppID: app, TargetID: fmt.Sprint(i)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	a.seal(t)
}

func (a *apiEnv) seal(t *testing.T) {
	t.Helper()
	for {
		n, err := a.Store.SealPending(t.Context(), 1000)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
}

// ndjsonEvents reads NDJSON events, checking each has its chain fields.
func ndjsonEvents(t *testing.T, body []byte) []streamedEvent {
	t.Helper()
	var out []streamedEvent
	sc := bufio.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		var e streamedEvent
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil || e.ChainSeq == nil || e.PrevHash == nil || e.Hash == nil {
			t.Fatalf("streamed line %s: want an event with chain_seq, prev_hash and hash (%v)", sc.Bytes(), err)
		}
		out = append(out, e)
	}
	return out
}

func TestAuditStream_LongPollNDJSONInChainOrderOfTheKeysProjectsOnly(t *testing.T) {
	t.Parallel()
	a := newAPIEnv(t)
	a.CreateProject(t, 1001)
	a.CreateProject(t, 2002)
	key := a.key(t, []string{store.ScopeAuditRead}, 1001)
	a.auditSome(t, 2002, 2)
	a.auditSome(t, 1001, 3)
	res := a.get(t, "/api/v1/audit/stream?after=0&wait=0", key)
	if res.status != http.StatusOK || res.header.Get("Content-Type") != "application/x-ndjson" {
		t.Fatalf("got %d %s: %s", res.status, res.header.Get("Content-Type"), res.body)
	}
	events := ndjsonEvents(t, res.body)
	var last int64
	for _, e := range events {
		if e.AppID == nil || *e.AppID != 1001 || *e.ChainSeq <= last {
			t.Fatalf("got %+v after seq %d, want events of project 1001 only, in chain order", e, last)
		}
		last = *e.ChainSeq
	}
	if len(events) < 4 || res.header.Get("Audit-Next-After") != strconv.FormatInt(last, 10) {
		t.Fatalf("got %d events and Audit-Next-After %q, want the project's create and 3 events, next after %d", len(events), res.header.Get("Audit-Next-After"), last)
	}

	// Nothing new: the poll waits, and answers as soon as an event is sealed.
	got := make(chan apiResponse, 1)
	go func() { got <- a.get(t, fmt.Sprintf("/api/v1/audit/stream?after=%d&wait=30s", last), key) }()
	a.auditSome(t, 1001, 1)
	res = <-got
	if events := ndjsonEvents(t, res.body); len(events) != 1 || *events[0].ChainSeq <= last {
		t.Errorf("long poll: got %d events %s, want the one sealed after %d", len(events), res.body, last)
	}

	for q, field := range map[string]string{"after=-1": "after", "wait=5m": "wait", "q=alice": "q", "from=2024-01-01": "from"} {
		p := a.get(t, "/api/v1/audit/stream?"+q, key).wantProblem(t, http.StatusBadRequest, "bad-filter")
		if p.Errors[field] == "" {
			t.Errorf("%s: got errors %v, want one on %s", q, p.Errors, field)
		}
	}
	a.get(t, "/api/v1/audit/stream?app_id=2002", key).wantProblem(t, http.StatusForbidden, "forbidden")
	a.get(t, "/api/v1/audit/stream", a.key(t, []string{store.ScopeIssue}, 1001)).wantProblem(t, http.StatusForbidden, "forbidden")
}

// sseReader reads Server-Sent Events.
type sseReader struct {
	res *http.Response
	sc  *bufio.Scanner
}

func (a *apiEnv) openSSE(t *testing.T, ctx context.Context, key, lastEventID string) *sseReader {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, a.URL+"/api/v1/audit/stream", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Accept", "text/event-stream")
	if lastEventID != "" {
		req.Header.Set("Last-Event-ID", lastEventID)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	validateAgainstOpenAPI(t, req, res, nil)
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("SSE: got %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	return &sseReader{res: res, sc: bufio.NewScanner(res.Body)}
}

// next returns the next event's id and data, skipping comments and retry.
func (r *sseReader) next(t *testing.T) (int64, streamedEvent) {
	t.Helper()
	var id int64 = -1
	var data []byte
	for r.sc.Scan() {
		line := r.sc.Text()
		switch {
		case line == "" && data != nil:
			var e streamedEvent
			if err := json.Unmarshal(data, &e); err != nil || e.ChainSeq == nil || *e.ChainSeq != id {
				t.Fatalf("SSE event id %d data %s: want the event with that chain_seq (%v)", id, data, err)
			}
			return id, e
		case strings.HasPrefix(line, "id: "):
			id, _ = strconv.ParseInt(strings.TrimPrefix(line, "id: "), 10, 64)
		case strings.HasPrefix(line, "data: "):
			data = []byte(strings.TrimPrefix(line, "data: "))
		}
	}
	t.Fatalf("SSE stream ended: %v", r.sc.Err())
	return 0, streamedEvent{}
}

func TestAuditStream_SSEResumesWithLastEventIDAfterADisconnect(t *testing.T) {
	t.Parallel()
	a := newAPIEnv(t)
	a.CreateProject(t, 1001)
	key := a.key(t, []string{store.ScopeAuditRead}, 1001)
	a.auditSome(t, 1001, 4)

	ctx, disconnect := context.WithCancel(t.Context())
	sse := a.openSSE(t, ctx, key, "")
	var seen []int64
	for len(seen) < 3 {
		id, _ := sse.next(t)
		seen = append(seen, id)
	}
	disconnect()
	sse.res.Body.Close()
	a.auditSome(t, 1001, 3) // sealed while the client was away

	sse = a.openSSE(t, t.Context(), key, strconv.FormatInt(seen[len(seen)-1], 10))
	defer sse.res.Body.Close()
	var total int
	if err := a.Store.Pool().QueryRow(t.Context(), `SELECT count(*) FROM audit_trail WHERE app_id = 1001 AND chain_seq IS NOT NULL`).Scan(&total); err != nil {
		t.Fatal(err)
	}
	for len(seen) < total {
		id, e := sse.next(t)
		if id <= seen[len(seen)-1] || *e.AppID != 1001 {
			t.Fatalf("after resuming from %d: got id %d (%+v), want later events of 1001 only, none twice", seen[len(seen)-1], id, e)
		}
		seen = append(seen, id)
	}
	// And events sealed while connected arrive too.
	a.auditSome(t, 1001, 1)
	if id, _ := sse.next(t); id <= seen[len(seen)-1] {
		t.Errorf("got id %d, want the newly sealed event", id)
	}
}

func TestAuditStream_GoneWhenTheCursorIsOlderThanWhatIsKept(t *testing.T) {
	t.Parallel()
	a := newAPIEnv(t)
	a.CreateProject(t, 1001)
	key := a.key(t, []string{store.ScopeAuditRead}, 1001)
	a.auditSome(t, 1001, 3)
	keys, _ := store.NewKeyring(bytes.Repeat([]byte{9}, 32)) // webtest's master key: the checkpoint MAC key derives from it
	owner, err := store.Open(t.Context(), a.DB.OwnerURL, keys)
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close()
	if n, err := owner.PruneAudit(t.Context(), time.Now(), webtest.AdminActor, store.Origin{}); err != nil || n == 0 {
		t.Fatalf("prune: %d %v", n, err)
	}
	a.get(t, "/api/v1/audit/stream?after=0&wait=0", key).wantProblem(t, http.StatusGone, "gone")
	a.get(t, "/api/v1/audit?after_seq=1", key).wantProblem(t, http.StatusGone, "gone")
}

func TestAuditList_AfterSeqPagesInChainOrder(t *testing.T) {
	t.Parallel()
	a := newAPIEnv(t)
	a.CreateProject(t, 1001)
	key := a.key(t, []string{store.ScopeAuditRead}, 1001)
	a.auditSome(t, 1001, 5)
	var seqs []int64
	after := "0"
	for page := 0; page < 10; page++ {
		res := a.get(t, "/api/v1/audit?limit=2&after_seq="+after, key)
		var p struct {
			Events       []streamedEvent `json:"events"`
			NextAfterSeq *int64          `json:"next_after_seq"`
		}
		res.decode(t, &p)
		for _, e := range p.Events {
			if len(seqs) > 0 && *e.ChainSeq <= seqs[len(seqs)-1] {
				t.Fatalf("seq %d after %d: not chain order", *e.ChainSeq, seqs[len(seqs)-1])
			}
			seqs = append(seqs, *e.ChainSeq)
		}
		if p.NextAfterSeq == nil {
			break
		}
		after = strconv.FormatInt(*p.NextAfterSeq, 10)
	}
	if len(seqs) != 6 { // the project's creation and 5 events
		t.Errorf("got %d events %v, want 6", len(seqs), seqs)
	}
	p := a.get(t, "/api/v1/audit?after_seq=0&cursor=x", key).wantProblem(t, http.StatusBadRequest, "bad-filter")
	if p.Errors["cursor"] == "" {
		t.Errorf("got %v, want an error on cursor", p.Errors)
	}
}
