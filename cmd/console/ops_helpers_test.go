package main

// Helpers shared by the operations tests (serve, fault, multi-instance):
// consoles run in-process or as processes, their logs, the JSON API, and the
// audit chain checks. Names start with ops to stay clear of other test files.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zegocloud-console/console/internal/store"
)

// opsLog collects a console's stderr and wakes waiters on every write.
type opsLog struct {
	mu      sync.Mutex
	b       bytes.Buffer
	changed chan struct{}
}

func newOpsLog() *opsLog { return &opsLog{changed: make(chan struct{})} }

func (l *opsLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b.Write(p)
	close(l.changed)
	l.changed = make(chan struct{})
	return len(p), nil
}

func (l *opsLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Len is where the next write will start, for waitFor's from.
func (l *opsLog) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Len()
}

// waitFor returns the submatches of the first match of re in the log after
// offset from. It gives up (nil) when exited closes or timeout passes.
func (l *opsLog) waitFor(re *regexp.Regexp, from int, exited <-chan struct{}, timeout time.Duration) []string {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		l.mu.Lock()
		m := re.FindStringSubmatch(l.b.String()[from:])
		changed := l.changed
		l.mu.Unlock()
		if m != nil {
			return m
		}
		select {
		case <-changed:
		case <-exited:
			return re.FindStringSubmatch(l.String()[from:]) // the last words may have come with the exit
		case <-deadline.C:
			return nil
		}
	}
}

// opsListening matches the log line that says where a console listens.
var opsListening = regexp.MustCompile(`"msg":"console listening","addr":"([0-9.]+:[0-9]+)"`)

// opsSecret is the ServerSecret of the projects opsProvision makes.
const opsSecret = "ops-test-secret-0123456789abcdef"

// opsNewMasterKey draws a CONSOLE_MASTER_KEY.
func opsNewMasterKey(t testing.TB) string {
	t.Helper()
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(k)
}

// opsOpenStore opens a store on dbURL with the master key, as a console
// configured with it would; it closes when t ends.
func opsOpenStore(t testing.TB, dbURL, masterKey string) *store.Store {
	t.Helper()
	keys, err := store.ParseMasterKeys(masterKey, "")
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(context.Background(), dbURL, keys)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	return st
}

// opsPoll calls cond until it reports true or timeout passes, then fails the
// test with the last state cond described.
func opsPoll(t testing.TB, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not reached within %v; last state: %s", what, timeout, state)
		}
		<-tick.C
	}
}

// opsGet fetches url and returns the status and body; a transport error is
// status 0 with the error as body.
func opsGet(c *http.Client, url string) (int, string) {
	res, err := c.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// opsWaitReady polls base+/readyz until it answers 200.
func opsWaitReady(t testing.TB, c *http.Client, base string, timeout time.Duration) {
	t.Helper()
	opsPoll(t, timeout, "GET "+base+"/readyz = 200", func() (bool, string) {
		status, body := opsGet(c, base+"/readyz")
		return status == http.StatusOK, fmt.Sprintf("status %d: %s", status, strings.TrimSpace(body))
	})
}

// opsProvision creates a project and an API key that may issue and revoke its tokens.
func opsProvision(t testing.TB, st *store.Store, appID uint32) (apiKey string) {
	t.Helper()
	ctx := context.Background()
	setup := store.Actor{Type: store.ActorSystem, Name: "ops-test"}
	if _, err := st.CreateProject(ctx, store.ProjectInput{Name: "Ops test", AppID: appID, Environment: "test",
		DefaultTTL: time.Hour, MaxTTL: 24 * time.Hour}, []byte(opsSecret), setup, store.Origin{}); err != nil {
		t.Fatalf("create project: %v", err)
	}
	raw, _, err := st.CreateAPIKey(ctx, store.APIKeyInput{Name: "ops-test", AppIDs: []uint32{appID},
		Scopes: []string{store.ScopeIssue, store.ScopeRevoke}}, setup, store.Origin{})
	if err != nil {
		t.Fatalf("create api key: %v", err)
	}
	return raw
}

// opsAnswer is what the API answered to one request.
type opsAnswer struct {
	Status      int
	ContentType string
	ID, Token   string // a 201 to an issue request
	Detail      string // a problem's detail
	Body        string
	Err         error // no HTTP answer at all
}

// opsPost sends a JSON API request with the bearer key.
func opsPost(ctx context.Context, c *http.Client, url, apiKey string, body any) opsAnswer {
	b, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(b))
	if err != nil {
		return opsAnswer{Err: err}
	}
	req.Header.Set("Authorization", "Bearer "+apiKey)
	req.Header.Set("Content-Type", "application/json")
	res, err := c.Do(req)
	if err != nil {
		return opsAnswer{Err: err}
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	a := opsAnswer{Status: res.StatusCode, ContentType: res.Header.Get("Content-Type"), Body: string(raw), Err: err}
	var fields struct{ ID, Token, Detail string }
	_ = json.Unmarshal(raw, &fields)
	a.ID, a.Token, a.Detail = fields.ID, fields.Token, fields.Detail
	return a
}

// opsIssue asks base to issue a token for userID with the project's default TTL.
func opsIssue(ctx context.Context, c *http.Client, base, apiKey string, appID uint32, userID string) opsAnswer {
	return opsPost(ctx, c, fmt.Sprintf("%s/api/v1/projects/%d/tokens", base, appID), apiKey, map[string]any{"user_id": userID})
}

// opsRevoke asks base to revoke the token with id.
func opsRevoke(ctx context.Context, c *http.Client, base, apiKey string, appID uint32, id string) opsAnswer {
	return opsPost(ctx, c, fmt.Sprintf("%s/api/v1/projects/%d/tokens/%s/revoke", base, appID, id), apiKey,
		map[string]any{"reason": "ops test"})
}

// opsCheckAuditChain asserts that every event is sealed, chain positions run
// 1..n without a gap, and the chain verifies.
func opsCheckAuditChain(t testing.TB, st *store.Store) {
	t.Helper()
	ctx := context.Background()
	var total, sealed, lo, hi int64
	if err := st.Pool().QueryRow(ctx, `SELECT count(*), count(chain_seq), coalesce(min(chain_seq), 0), coalesce(max(chain_seq), 0)
		FROM audit_trail`).Scan(&total, &sealed, &lo, &hi); err != nil {
		t.Fatalf("read chain positions: %v", err)
	}
	if sealed != total || lo != 1 || hi != total {
		t.Errorf("audit chain: got %d events, %d sealed at seq %d..%d; want all sealed at 1..%d", total, sealed, lo, hi, total)
	}
	rep, err := st.VerifyAuditChain(ctx)
	if err != nil {
		t.Fatalf("verify audit chain: %v", err)
	}
	if !rep.OK || rep.Events != total {
		t.Errorf("verify audit chain: got ok=%v events=%d (%s, break %s at %d), want ok over %d events",
			rep.OK, rep.Events, rep.Message, rep.BreakKind, rep.BreakSeq, total)
	}
}

// opsWaitSealed waits until the consoles' sealers have sealed every event.
func opsWaitSealed(t testing.TB, st *store.Store, timeout time.Duration) {
	t.Helper()
	opsPoll(t, timeout, "every audit event sealed", func() (bool, string) {
		n, oldest, err := st.SealLag(context.Background())
		return err == nil && n == 0, fmt.Sprintf("%d unsealed, oldest %v, err %v", n, oldest, err)
	})
}
