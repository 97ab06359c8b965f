package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zegocloud-console/console/internal/store"
)

// faultClient is one backend service issuing tokens against both consoles.
type faultClient struct {
	oks, fails atomic.Int64
	outcomes   []faultOutcome // written by its goroutine only, read after it ends
}

// faultOutcome is the answer to one issue request.
type faultOutcome struct {
	console int
	answer  opsAnswer
	excused bool // no answer, but its console was killed meanwhile
}

// run issues tokens, alternating between the consoles, until stop closes or
// it has sent max requests. The ticker only paces the loop (a failing
// console answers at once); nothing waits on it for ordering.
func (fc *faultClient) run(id int, procs []*consoleProc, apiKey string, appID uint32, max int, stop <-chan struct{}, okOn []atomic.Int64) {
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for n := range max {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		ci := (id + n) % len(procs)
		p := procs[ci]
		before := p.epoch.Load()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		a := opsIssue(ctx, p.client, p.URL(), apiKey, appID, fmt.Sprintf("fault-%d-%d", id, n))
		cancel()
		after := p.epoch.Load()
		fc.outcomes = append(fc.outcomes, faultOutcome{console: ci, answer: a,
			excused: a.Err != nil && (before != after || before%2 == 1)})
		if a.Status == http.StatusCreated {
			fc.oks.Add(1)
			okOn[ci].Add(1)
		} else {
			fc.fails.Add(1)
		}
	}
}

// faultEach waits until cond holds for every client.
func faultEach(t *testing.T, clients []*faultClient, timeout time.Duration, what string, cond func(i int, c *faultClient) bool) {
	t.Helper()
	opsPoll(t, timeout, what, func() (bool, string) {
		ok, state := true, ""
		for i, c := range clients {
			ok = ok && cond(i, c)
			state += fmt.Sprintf(" client %d: %d ok %d failed;", i, c.oks.Load(), c.fails.Load())
		}
		return ok, state
	})
}

func faultSnapshot(clients []*faultClient, counter func(*faultClient) *atomic.Int64) []int64 {
	s := make([]int64, len(clients))
	for i, c := range clients {
		s[i] = counter(c).Load()
	}
	return s
}

func TestFault_DatabaseRestartAndConsoleKillLoseNoTokenAndBreakNoChain(t *testing.T) {
	began := time.Now()
	bin := opsBuildConsole(t)
	built := time.Now()
	pg := newPGCluster(t)
	t.Logf("console built in %v, private cluster made and started in %v",
		built.Sub(began).Round(time.Millisecond), time.Since(built).Round(time.Millisecond))
	masterKey := opsNewMasterKey(t)
	keys, err := store.ParseMasterKeys(masterKey, "")
	if err != nil {
		t.Fatal(err)
	}
	owner, err := store.Open(context.Background(), pg.OwnerURL(), keys)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := owner.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := owner.GrantRuntimeRole(context.Background(), "console_runtime"); err != nil {
		t.Fatal(err)
	}
	owner.Close()
	st, err := store.Open(context.Background(), pg.RuntimeURL(), keys)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	const appID = 424242
	apiKey := opsProvision(t, st, appID)
	environ := []string{"PATH=" + os.Getenv("PATH"), "DATABASE_URL=" + pg.RuntimeURL(), "CONSOLE_MASTER_KEY=" + masterKey,
		"CONSOLE_ADMIN_PASSWORD=fault-test-admin-password", "CONSOLE_SEAL_INTERVAL=50ms",
		"CONSOLE_API_RATE=100000", "CONSOLE_API_BURST=100000"}
	procs := []*consoleProc{newConsoleProc("A", bin, environ), newConsoleProc("B", bin, environ)}
	for _, p := range procs {
		p.start(t)
	}
	b := procs[1] // the one that is killed; A stays up through everything

	clients := make([]*faultClient, 8)
	okOn := make([]atomic.Int64, len(procs))
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := range clients {
		clients[i] = &faultClient{}
		wg.Go(func() { clients[i].run(i, procs, apiKey, appID, 20000, stop, okOn) })
	}
	stopClients := sync.OnceFunc(func() { close(stop); wg.Wait() })
	defer stopClients()
	oks := func(c *faultClient) *atomic.Int64 { return &c.oks }
	fails := func(c *faultClient) *atomic.Int64 { return &c.fails }
	warm := int64(3)
	if testing.Short() {
		warm = 1
	}
	faultEach(t, clients, 30*time.Second, "warm-up", func(_ int, c *faultClient) bool { return c.oks.Load() >= warm })

	mark := time.Now()
	pg.Stop(t, "immediate")
	failed := faultSnapshot(clients, fails)
	faultEach(t, clients, 20*time.Second, "every client fails while PostgreSQL is down",
		func(i int, c *faultClient) bool { return c.fails.Load() > failed[i] })
	pg.Start(t)
	succeeded, okA := faultSnapshot(clients, oks), okOn[0].Load()
	faultEach(t, clients, 30*time.Second, "every client succeeds again after PostgreSQL restarted, on console A too",
		func(i int, c *faultClient) bool { return c.oks.Load() > succeeded[i] && okOn[0].Load() > okA })
	t.Logf("PostgreSQL stopped, restarted and recovered from in %v", time.Since(mark).Round(time.Millisecond))

	mark = time.Now()
	b.kill(t)
	b.restart(t)
	succeeded, okB := faultSnapshot(clients, oks), okOn[1].Load()
	faultEach(t, clients, 30*time.Second, "every client succeeds after console B restarted, on B too",
		func(i int, c *faultClient) bool { return c.oks.Load() > succeeded[i] && okOn[1].Load() > okB })
	stopClients()
	t.Logf("console B killed, restarted and serving in %v", time.Since(mark).Round(time.Millisecond))

	opsWaitSealed(t, st, 20*time.Second) // by the consoles' sealers, which survived the outage
	for _, p := range procs {
		if err := p.terminate(t); err != nil {
			t.Errorf("console %s: graceful shutdown on SIGTERM: got %v, want exit 0", p.name, err)
		}
	}
	faultCheckAnswers(t, clients, procs)
	faultCheckRecords(t, keys, pg.RuntimeURL(), clients)
	t.Logf("fault test took %v", time.Since(began).Round(time.Millisecond))
}

// opsTokenLike matches anything that looks like a Token04 in a log: "04"
// and the base64 of at least 90 bytes (the smallest token's expiry, nonce,
// sealed claims and mode are more). A SHA-256 in hex (the chain head's
// hash, 64 characters) may start with 04 too and is not a token.
var opsTokenLike = regexp.MustCompile(`04[A-Za-z0-9+/]{120,}`)

// faultCheckAnswers asserts that every answer was a 201 with a token, a 5xx
// problem with a reason, or no answer from a console that was being killed;
// and that the consoles logged no race, panic or token.
func faultCheckAnswers(t *testing.T, clients []*faultClient, procs []*consoleProc) {
	t.Helper()
	var created, unavailable, excused, bad int
	for i, c := range clients {
		for _, o := range c.outcomes {
			a, name := o.answer, procs[o.console].name
			problem := ""
			switch {
			case a.Err != nil && o.excused:
				excused++
			case a.Err != nil:
				problem = fmt.Sprintf("no answer from console %s, which was not killed: %v", name, a.Err)
			case a.Status == http.StatusCreated:
				created++
				if !strings.HasPrefix(a.Token, "04") || a.ID == "" {
					problem = fmt.Sprintf("201 from console %s without a token and id: %.300s", name, a.Body)
				}
			case a.Status < 500:
				problem = fmt.Sprintf("got %d from console %s, want 201 or a 5xx: %.300s", a.Status, name, a.Body)
			default:
				unavailable++
				if !strings.HasPrefix(a.ContentType, "application/problem+json") || strings.TrimSpace(a.Detail) == "" {
					problem = fmt.Sprintf("got %d from console %s as %q, want a problem+json with a detail: %.300s", a.Status, name, a.ContentType, a.Body)
				}
			}
			if problem != "" {
				if bad++; bad <= 10 {
					t.Errorf("client %d: %s", i, problem)
				}
			}
		}
	}
	t.Logf("answers: %d tokens issued, %d 5xx, %d unanswered while a console was killed, %d wrong", created, unavailable, excused, bad)
	if unavailable == 0 {
		t.Errorf("got no 5xx at all: the clients never saw the database outage")
	}
	for _, p := range procs {
		out := p.log.String()
		for _, bad := range []string{"DATA RACE", "panic", "goroutine "} {
			if strings.Contains(out, bad) {
				t.Errorf("console %s logged %q:\n%s", p.name, bad, out)
			}
		}
		if tok := opsTokenLike.FindString(out); tok != "" {
			t.Errorf("console %s logged something like a token: %.20s…", p.name, tok)
		}
	}
}

// faultCheckRecords asserts that each token a client received has exactly
// one record (with the id the client was told) and one token.issue event,
// that every record has its one event, and that the audit chain verifies.
func faultCheckRecords(t *testing.T, keys *store.Keyring, url string, clients []*faultClient) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, url, keys) // fresh connections: the old ones saw the outage
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	received := map[string]string{} // fingerprint (hex) → id
	var fps [][]byte
	for _, c := range clients {
		for _, o := range c.outcomes {
			if o.answer.Status == http.StatusCreated {
				fp := sha256.Sum256([]byte(o.answer.Token))
				received[hex.EncodeToString(fp[:])] = o.answer.ID
				fps = append(fps, fp[:])
			}
		}
	}
	rows, err := st.Pool().Query(ctx, `SELECT encode(t.fingerprint, 'hex'), t.id::text,
		(SELECT count(*) FROM audit_events e WHERE e.action = 'token.issue' AND e.token_fingerprint = t.fingerprint)
		FROM issued_tokens t WHERE t.fingerprint = ANY($1)`, fps)
	if err != nil {
		t.Fatal(err)
	}
	records := map[string]int{}
	for rows.Next() {
		var fp, id string
		var events int
		if err := rows.Scan(&fp, &id, &events); err != nil {
			t.Fatal(err)
		}
		records[fp]++
		if id != received[fp] || events != 1 {
			t.Errorf("token %s…: got record id %s with %d token.issue events, want id %s with 1", fp[:12], id, events, received[fp])
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	missing := 0
	for fp := range received {
		if records[fp] != 1 {
			if missing++; missing <= 10 {
				t.Errorf("token %s… was handed out but has %d records, want 1", fp[:12], records[fp])
			}
		}
	}
	var total, unevented int
	if err := st.Pool().QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE (SELECT count(*) FROM audit_events e
		WHERE e.action = 'token.issue' AND e.token_fingerprint = t.fingerprint) <> 1) FROM issued_tokens t`).Scan(&total, &unevented); err != nil {
		t.Fatal(err)
	}
	if unevented != 0 {
		t.Errorf("%d of %d token records do not have exactly one token.issue event", unevented, total)
	}
	t.Logf("records: %d tokens received by clients, %d records (%d committed but never delivered)", len(received), total, total-len(received))
	opsCheckAuditChain(t, st)
}
