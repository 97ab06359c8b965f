package main

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zegocloud-console/console/internal/pgtest"
)

func TestMultiInstance_TwoConsolesIssueRevokeAndSealOneDatabaseWithoutLosingEvents(t *testing.T) {
	t.Parallel()
	began := time.Now()
	masterKey := opsNewMasterKey(t)
	dbURL := pgtest.New(t).RuntimeURL
	st := opsOpenStore(t, dbURL, masterKey)
	const appID = 515151
	apiKey := opsProvision(t, st, appID)
	var events0 int64
	if err := st.Pool().QueryRow(context.Background(), `SELECT count(*) FROM audit_events`).Scan(&events0); err != nil {
		t.Fatal(err)
	}

	environ := map[string]string{"DATABASE_URL": dbURL, "CONSOLE_MASTER_KEY": masterKey,
		"CONSOLE_ADMIN_PASSWORD": "multi-instance-admin-pw", "CONSOLE_SEAL_INTERVAL": "20ms",
		"CONSOLE_API_RATE": "100000", "CONSOLE_API_BURST": "100000"}
	consoles := []*inprocConsole{startInproc(t, environ), startInproc(t, environ)}

	workers, perWorker := 6, 40
	if testing.Short() {
		perWorker = 15
	}
	var issued, revoked atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			for n := range perWorker {
				// Issue on one console, revoke every other token on the other.
				c, other := consoles[(w+n)%2], consoles[(w+n+1)%2]
				a := opsIssue(ctx, c.Client, c.URL, apiKey, appID, fmt.Sprintf("multi-%d-%d", w, n))
				if a.Err != nil || a.Status != http.StatusCreated || a.ID == "" {
					t.Errorf("worker %d: issue on %s: got %d %v %.300s, want 201 with an id", w, c.Addr, a.Status, a.Err, a.Body)
					return
				}
				issued.Add(1)
				if n%2 == 1 {
					continue
				}
				r := opsRevoke(ctx, other.Client, other.URL, apiKey, appID, a.ID)
				if r.Err != nil || r.Status != http.StatusOK {
					t.Errorf("worker %d: revoke on %s: got %d %v %.300s, want 200", w, other.Addr, r.Status, r.Err, r.Body)
					return
				}
				revoked.Add(1)
			}
		})
	}
	wg.Wait()
	opsWaitSealed(t, st, 20*time.Second)
	for _, c := range consoles {
		if err := c.stop(t); err != nil {
			t.Errorf("console %s: run after cancel: got %v, want nil", c.Addr, err)
		}
	}

	ctx := context.Background()
	var records, revokedRecords, issueEvents, revokeEvents, events int64
	if err := st.Pool().QueryRow(ctx, `SELECT
			(SELECT count(*) FROM issued_tokens WHERE app_id = $1),
			(SELECT count(*) FROM issued_tokens WHERE app_id = $1 AND revoked_at IS NOT NULL),
			(SELECT count(*) FROM audit_events WHERE action = 'token.issue' AND app_id = $1),
			(SELECT count(*) FROM audit_events WHERE action = 'token.revoke' AND app_id = $1),
			(SELECT count(*) FROM audit_events)`, int64(appID)).
		Scan(&records, &revokedRecords, &issueEvents, &revokeEvents, &events); err != nil {
		t.Fatal(err)
	}
	if records != issued.Load() || issueEvents != issued.Load() {
		t.Errorf("issued %d tokens: got %d records and %d token.issue events, want %d of each", issued.Load(), records, issueEvents, issued.Load())
	}
	if revokedRecords != revoked.Load() || revokeEvents != revoked.Load() {
		t.Errorf("revoked %d tokens: got %d revoked records and %d token.revoke events, want %d of each",
			revoked.Load(), revokedRecords, revokeEvents, revoked.Load())
	}
	if want := events0 + issued.Load() + revoked.Load(); events < want {
		t.Errorf("got %d audit events, want at least %d", events, want)
	}
	opsCheckAuditChain(t, st)
	t.Logf("%d issued, %d revoked through two consoles, %d events sealed and verified, in %v",
		issued.Load(), revoked.Load(), events, time.Since(began).Round(time.Millisecond))
}
