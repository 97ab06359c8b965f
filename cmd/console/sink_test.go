package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/zegocloud-console/console/internal/pgtest"
	"github.com/zegocloud-console/console/internal/store"
)

// hookReceiver is a SIEM's webhook endpoint: it checks each request's
// signature with the Standard Webhooks reference library and keeps the
// events it accepted, in arrival order. hold, when set, decides whether a
// request (by its first chain position) hangs until its client goes away.
type hookReceiver struct {
	srv      *httptest.Server
	mu       sync.Mutex
	verifier *standardwebhooks.Webhook
	lines    [][]byte
	seqs     []int64
	badSigs  int
	hold     func(seq int64) bool
	held     chan int64
}

func newHookReceiver(t *testing.T) *hookReceiver {
	h := &hookReceiver{held: make(chan int64, 16)}
	h.srv = httptest.NewServer(http.HandlerFunc(h.serve))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hookReceiver) setSecret(t *testing.T, secret string) {
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	h.mu.Lock()
	h.verifier = wh
	h.mu.Unlock()
}

func (h *hookReceiver) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	verifier, hold := h.verifier, h.hold
	h.mu.Unlock()
	if verifier == nil || verifier.Verify(body, r.Header) != nil {
		h.mu.Lock()
		h.badSigs++
		h.mu.Unlock()
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	var lines [][]byte
	var seqs []int64
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var ev struct {
			ChainSeq *int64 `json:"chain_seq"`
		}
		if json.Unmarshal(sc.Bytes(), &ev) != nil {
			http.Error(w, "not an event", http.StatusBadRequest)
			return
		}
		if ev.ChainSeq == nil {
			continue // a test event, outside the chain
		}
		lines, seqs = append(lines, bytes.Clone(sc.Bytes())), append(seqs, *ev.ChainSeq)
	}
	if len(seqs) > 0 && hold != nil && hold(seqs[0]) {
		h.held <- seqs[0]
		<-r.Context().Done()
		return
	}
	h.mu.Lock()
	h.lines, h.seqs = append(h.lines, lines...), append(h.seqs, seqs...)
	h.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

func (h *hookReceiver) received() ([]int64, [][]byte, int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]int64{}, h.seqs...), append([][]byte{}, h.lines...), h.badSigs
}

// checkAtLeastOnceInOrder asserts that the receiver got every position
// 1..head, and never one before all those below it (duplicates, from a
// redelivery, are allowed); it returns how many duplicates there were.
func checkAtLeastOnceInOrder(t *testing.T, seqs []int64, head int64) int {
	t.Helper()
	seen := map[int64]bool{}
	var next int64 = 1 // the lowest position not received yet
	dups := 0
	for i, s := range seqs {
		switch {
		case seen[s]:
			dups++
		case s != next:
			t.Fatalf("arrival %d is seq %d before seq %d arrived: a gap or a reorder (arrivals %v)", i, s, next, seqs)
		default:
			seen[s] = true
			next++
		}
	}
	if next-1 != head {
		t.Fatalf("got every position up to %d, want up to %d", next-1, head)
	}
	return dups
}

// sinkEnv is a database, the environment of consoles on it, a store to
// write events and check, and a webhook sink to a receiver.
type sinkEnv struct {
	db      pgtest.DB
	environ map[string]string
	st      *store.Store
	hook    *hookReceiver
	sink    store.Sink
}

func newSinkEnv(t *testing.T, extra map[string]string, format string) sinkEnv {
	t.Helper()
	db := pgtest.New(t)
	raw := bytes.Repeat([]byte{3}, 32)
	keys, _ := store.NewKeyring(raw)
	st, err := store.Open(t.Context(), db.RuntimeURL, keys)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	environ := map[string]string{"DATABASE_URL": db.RuntimeURL, "CONSOLE_MASTER_KEY": base64.StdEncoding.EncodeToString(raw),
		"CONSOLE_ADMIN_PASSWORD": "sink-test-admin-password", "CONSOLE_SEAL_INTERVAL": "20ms",
		"CONSOLE_SINK_RETRY_SCHEDULE": "20ms,20ms,20ms,20ms,20ms,20ms,20ms,20ms,20ms,20ms", "CONSOLE_AUDIT_ANCHOR_INTERVAL": "off"}
	for k, v := range extra {
		environ[k] = v
	}
	hook := newHookReceiver(t)
	k, secret, err := st.CreateSink(t.Context(), store.SinkInput{Name: "siem", Kind: store.SinkWebhook, URL: hook.srv.URL + "/ingest",
		Format: format, AllowPrivate: true, FromSeq: 1}, cliActor, store.Origin{})
	if err != nil {
		t.Fatal(err)
	}
	hook.setSecret(t, secret)
	return sinkEnv{db: db, environ: environ, st: st, hook: hook, sink: k}
}

// audit writes n events (unsealed: the consoles seal them).
func (s sinkEnv) audit(t *testing.T, from, n int) {
	t.Helper()
	for i := from; i < from+n; i++ {
		if err := s.st.Audit(context.Background(), store.Event{Actor: store.Actor{Type: store.ActorAPIKey, ID: "zc_svc", Name: "svc"},
			Action: "token.issue", Outcome: store.OutcomeSuccess, AppID: 4242, TargetType: "token", TargetID: fmt.Sprint(i),
			Details: map[string]any{"user_id": fmt.Sprintf("user-%d", i)}}); err != nil {
			t.Fatal(err)
		}
	}
}

// waitDelivered waits until every event is sealed and the sink's cursor is
// at the end of the chain, and returns that end.
func (s sinkEnv) waitDelivered(t *testing.T) int64 {
	t.Helper()
	var head int64
	opsPoll(t, 60*time.Second, "every event sealed and delivered", func() (bool, string) {
		n, _, _ := s.st.SealLag(context.Background())
		k, err := s.st.GetSink(context.Background(), s.sink.ID)
		if err != nil {
			return false, err.Error()
		}
		_ = s.st.Pool().QueryRow(context.Background(), `SELECT COALESCE(max(chain_seq), 0) FROM audit_chain`).Scan(&head)
		return n == 0 && k.CursorSeq == head && head > 0, fmt.Sprintf("%d unsealed, cursor %d of %d, last error %q", n, k.CursorSeq, head, k.LastError)
	})
	return head
}

func TestSinkDelivery_AtLeastOnceInOrderAcrossARestartAndASIGKILLMidBatch(t *testing.T) {
	t.Parallel()
	s := newSinkEnv(t, nil, store.SinkFormatJSON) // one request per event: a batch is killed half delivered
	bin := opsBuildConsole(t)
	environ := []string{"PATH=" + os.Getenv("PATH")}
	for k, v := range s.environ {
		environ = append(environ, k+"="+v)
	}
	p := newConsoleProc("A", bin, environ)
	p.start(t)
	s.audit(t, 0, 20)
	s.waitDelivered(t)

	// A graceful restart in the middle of the stream.
	s.audit(t, 20, 20)
	if err := p.terminate(t); err != nil {
		t.Fatalf("SIGTERM: got %v, want exit 0", err)
	}
	s.audit(t, 40, 20)
	p.restart(t)
	s.waitDelivered(t)

	// SIGKILL while a batch is half delivered: the receiver took some events
	// of the batch one by one and hangs on the next.
	s.hook.mu.Lock()
	s.hook.hold = func(seq int64) bool { return seq%10 == 5 }
	s.hook.mu.Unlock()
	// Paused while the next 20 events are sealed, so that they go out as one
	// batch when it resumes.
	if _, err := s.st.SetSinkState(t.Context(), s.sink.ID, store.SinkPaused, cliActor, store.Origin{}); err != nil {
		t.Fatal(err)
	}
	s.audit(t, 60, 20)
	opsWaitSealed(t, s.st, 30*time.Second)
	if _, err := s.st.SetSinkState(t.Context(), s.sink.ID, store.SinkActive, cliActor, store.Origin{}); err != nil {
		t.Fatal(err)
	}
	held := <-s.hook.held
	p.kill(t)
	s.hook.mu.Lock()
	s.hook.hold = nil
	s.hook.mu.Unlock()
	s.audit(t, 80, 10)
	p.restart(t)
	head := s.waitDelivered(t)
	if err := p.terminate(t); err != nil {
		t.Errorf("SIGTERM: got %v, want exit 0", err)
	}

	seqs, _, bad := s.hook.received()
	dups := checkAtLeastOnceInOrder(t, seqs, head)
	if bad != 0 {
		t.Errorf("%d requests failed the Standard Webhooks signature check", bad)
	}
	if dups == 0 {
		t.Errorf("no event was delivered twice, though the console was killed while seq %d hung mid-batch: the kill did not hit a batch in flight", held)
	}
	t.Logf("%d events, %d deliveries, %d redelivered after the SIGKILL at seq %d", head, len(seqs), dups, held)
}

func TestSinkDelivery_TwoInstancesOneSinkDeliverEachEventOnce(t *testing.T) {
	t.Parallel()
	s := newSinkEnv(t, nil, store.SinkFormatNDJSON)
	a, b := startInproc(t, s.environ), startInproc(t, s.environ)
	for i := range 8 {
		s.audit(t, i*25, 25)
		time.Sleep(5 * time.Millisecond) // spread the events over several sealing rounds, not a synchronisation
	}
	head := s.waitDelivered(t)
	for _, c := range []*inprocConsole{a, b} {
		if err := c.stop(t); err != nil {
			t.Errorf("console %s: got %v, want a clean stop", c.Addr, err)
		}
	}
	seqs, _, bad := s.hook.received()
	if dups := checkAtLeastOnceInOrder(t, seqs, head); dups != 0 || int64(len(seqs)) != head {
		t.Errorf("got %d deliveries of %d events (%d duplicates), want each once", len(seqs), head, dups)
	}
	if bad != 0 {
		t.Errorf("%d requests failed the signature check", bad)
	}
}

func TestAuditVerifyAnchor_NamesARollbackPastADeliveredAnchor(t *testing.T) {
	t.Parallel()
	s := newSinkEnv(t, map[string]string{"CONSOLE_AUDIT_ANCHOR_INTERVAL": "50ms"}, store.SinkFormatNDJSON)
	c := startInproc(t, s.environ)
	var anchors [][]byte
	for round := 0; len(anchors) < 2; round++ {
		if round == 200 {
			t.Fatalf("fewer than 2 anchors delivered after %d rounds", round)
		}
		s.audit(t, round*5, 5)
		s.waitDelivered(t)
		anchors = anchors[:0]
		_, lines, _ := s.hook.received()
		for _, l := range lines {
			if bytes.Contains(l, []byte(`"action":"audit.anchor"`)) {
				anchors = append(anchors, l)
			}
		}
	}
	if err := c.stop(t); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	_, lines, _ := s.hook.received()
	stream := filepath.Join(dir, "stream.ndjson")
	if err := os.WriteFile(stream, append(bytes.Join(lines, []byte("\n")), '\n'), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := runAuditCLI(t, s.environ, "audit", "verify", "--ndjson", stream); r.code != 0 {
		t.Fatalf("verify --ndjson of the delivered stream: exit %d, stderr %s", r.code, r.stderr)
	}

	// Someone with superuser access rolls the chain back to the head the
	// first anchor carried, restoring that signed head (seq, hash, MAC) as
	// the sealer had left it: the chain verifies on its own again.
	first, err := store.ParseAnchorEvent(anchors[0])
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(t.Context(), s.db.SuperuserURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.WithoutCancel(t.Context()))
	if _, err := conn.Exec(t.Context(), `SET session_replication_role = replica`); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`DELETE FROM audit_events WHERE id NOT IN (SELECT event_id FROM audit_chain WHERE chain_seq <= $1)`,
		`DELETE FROM audit_chain WHERE chain_seq > $1`, `DELETE FROM audit_unsealed WHERE $1 > 0`,
		`DELETE FROM audit_checkpoints WHERE chain_seq > $1`, `UPDATE audit_chain_head SET chain_seq = $1, hash = $2, mac = $3`} {
		args := []any{first.Seq}
		if strings.HasPrefix(q, "UPDATE") {
			args = append(args, first.Hash, first.MAC)
		}
		if _, err := conn.Exec(t.Context(), q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if r := runAuditCLI(t, s.environ, "audit", "verify"); r.code != 0 {
		t.Fatalf("the rolled-back chain should verify on its own (that is what anchors are for): exit %d %s", r.code, r.stderr)
	}
	r := runAuditCLI(t, s.environ, "audit", "verify", "--anchor", stream)
	if r.code != 1 || !strings.Contains(r.stderr, "rolled_back") || !strings.Contains(r.stderr, fmt.Sprintf("seq %d", first.Seq+1)) {
		t.Errorf("verify --anchor after the rollback: got exit %d, stderr %q; want 1 naming the rollback from seq %d", r.code, r.stderr, first.Seq+1)
	}
}

func TestSinkCLI_CreateListPauseResumeReplayTestDelete(t *testing.T) {
	t.Parallel()
	a := setupAdminCLI(t)
	hook := newHookReceiver(t)
	headers := filepath.Join(a.dir, "headers")
	if err := os.WriteFile(headers, []byte("# Splunk HEC\nAuthorization: Splunk 0000-1111\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := a.run(t, "", "sink", "create", "--kind", "webhook", "--name", "splunk", "--url", hook.srv.URL+"/services/collector",
		"--header-file", headers, "--allow-private", "--outcome", "denied")
	out := strings.Fields(r.stdout)
	if r.code != 0 || len(out) != 2 || out[0] != "1" || !strings.HasPrefix(out[1], "whsec_") {
		t.Fatalf("sink create: exit %d, stdout %q, stderr %s; want the id and the secret", r.code, r.stdout, r.stderr)
	}
	hook.setSecret(t, out[1])
	if r := a.run(t, "", "sink", "create", "--kind", "webhook", "--name", "meta", "--url", "http://169.254.169.254/", "--allow-private"); r.code != 2 ||
		!strings.Contains(r.stderr, "metadata") {
		t.Errorf("a metadata URL: got exit %d %q, want 2 naming it", r.code, r.stderr)
	}
	if r := a.run(t, "", "sink", "test", "1"); r.code != 0 {
		t.Errorf("sink test: exit %d %s", r.code, r.stderr)
	}
	if _, lines, _ := hook.received(); len(lines) != 0 {
		t.Errorf("the test event (outside the chain) was recorded as a chain event: %s", lines)
	}
	for _, args := range [][]string{{"pause", "1"}, {"resume", "1"}, {"replay", "1", "--from", "1"}, {"rotate-secret", "1"}} {
		if r := a.run(t, "", append([]string{"sink"}, args...)...); r.code != 0 {
			t.Errorf("sink %v: exit %d %s", args, r.code, r.stderr)
		}
	}
	r = a.run(t, "", "sink", "list")
	if r.code != 0 || !strings.Contains(r.stdout, "splunk") || !strings.Contains(r.stdout, "/services/collector") || strings.Contains(r.stdout, "0000-1111") {
		t.Errorf("sink list: exit %d\n%s", r.code, r.stdout)
	}
	if r := a.run(t, "", "sink", "delete", "1"); r.code != 0 {
		t.Errorf("sink delete: exit %d %s", r.code, r.stderr)
	}
	if r := a.run(t, "", "sink", "pause", "1"); r.code == 0 || !strings.Contains(r.stderr, "not found") {
		t.Errorf("pause a deleted sink: exit %d %q, want it not found", r.code, r.stderr)
	}
	var actions []string
	rows, _ := a.st.Pool().Query(t.Context(), `SELECT action FROM audit_events WHERE action LIKE 'sink.%' ORDER BY id`)
	actions, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	want := "sink.create sink.test sink.pause sink.resume sink.replay sink.secret_rotate sink.delete"
	if got := strings.Join(actions, " "); got != want {
		t.Errorf("audited %q, want %q", got, want)
	}
}

func TestSinkDelivery_AStuckReceiverDoesNotHoldUpTokenIssuing(t *testing.T) {
	t.Parallel()
	s := newSinkEnv(t, nil, store.SinkFormatNDJSON)
	const appID = 616161
	apiKey := opsProvision(t, s.st, appID)
	s.hook.mu.Lock()
	s.hook.hold = func(int64) bool { return true } // every delivery hangs until its client gives up
	s.hook.mu.Unlock()
	c := startInproc(t, s.environ)
	<-s.hook.held // a delivery is in flight, holding its sink's lock and a connection
	for i := range 40 {
		a := opsIssue(t.Context(), c.Client, c.URL, apiKey, appID, fmt.Sprintf("user-%d", i))
		if a.Status != http.StatusCreated {
			t.Fatalf("issue %d while the sink is stuck: got %d %v %.300s, want 201", i, a.Status, a.Err, a.Body)
		}
	}
	opsWaitSealed(t, s.st, 30*time.Second) // sealing is not held up either
	k, err := s.st.GetSink(t.Context(), s.sink.ID)
	if err != nil {
		t.Fatal(err)
	}
	if k.LagEvents < 40 {
		t.Errorf("got a lag of %d events, want the 40 issues and more waiting for the stuck receiver", k.LagEvents)
	}
}
