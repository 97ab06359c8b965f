package store_test

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zegocloud-console/console/internal/store"
)

// export runs ExportAudit into an encoder of format.
func export(t *testing.T, b auditBundle, f store.AuditFilter, format string) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc, err := store.NewAuditEncoder(&buf, format)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.st.ExportAudit(b.ctx, f, enc.Write); err != nil {
		t.Fatalf("export %s: %v", format, err)
	}
	if err := enc.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestExportAudit_CSVAndNDJSONMatchListAudit(t *testing.T) {
	t.Parallel()
	b := setupAudit(t)
	seedQueryEvents(t, b)
	evil := store.Event{
		Actor:  store.Actor{Type: store.ActorOperator, ID: "-1", Name: "=cmd|' /C calc'!A0"},
		Origin: store.Origin{RequestID: "-2+3", ClientIP: "\t10.0.0.1", UserAgent: "@SUM(1,2)"},
		Action: "token.issue", Outcome: store.OutcomeSuccess, AppID: 1001,
		TargetType: "token", TargetID: "+1", Details: map[string]any{"x": "=1", "html": "<b>&</b>"},
	}
	b.insertAt(t, queryBase.Add(500*time.Hour), evil) // stays unsealed: no chain_seq, no hash
	f := store.AuditFilter{AppID: 1001, Action: "token.*"}
	page, err := b.st.ListAudit(b.ctx, f, "", store.MaxAuditPageSize)
	if err != nil {
		t.Fatal(err)
	}
	want := page.Events
	if len(want) < 10 {
		t.Fatalf("only %d events to export", len(want))
	}

	records, err := csv.NewReader(bytes.NewReader(export(t, b, f, store.AuditFormatCSV))).ReadAll()
	if err != nil {
		t.Fatalf("read the CSV back: %v", err)
	}
	header := "id,occurred_at,actor_type,actor_id,actor_name,action,outcome,app_id,target_type,target_id,request_id,client_ip,user_agent,details,token_fingerprint,chain_seq,hash"
	if got := strings.Join(records[0], ","); got != header {
		t.Fatalf("CSV header: got %s, want %s", got, header)
	}
	if len(records)-1 != len(want) {
		t.Fatalf("CSV rows: got %d, want %d", len(records)-1, len(want))
	}
	for i, e := range want {
		seq, hash := "", ""
		if e.ChainSeq != nil {
			seq, hash = strconv.FormatInt(*e.ChainSeq, 10), hex.EncodeToString(e.Hash)
		}
		wantRow := []string{strconv.FormatInt(e.ID, 10), e.OccurredAt.UTC().Format(time.RFC3339Nano), e.ActorType, e.ActorID,
			e.ActorName, e.Action, e.Outcome, strconv.FormatInt(*e.AppID, 10), e.TargetType, e.TargetID, e.RequestID,
			e.ClientIP, e.UserAgent, string(e.Details), hex.EncodeToString(e.TokenFingerprint), seq, hash}
		if i == 0 { // the evil event is the newest
			wantRow[3], wantRow[4], wantRow[9], wantRow[10], wantRow[11], wantRow[12] =
				"'-1", "'=cmd|' /C calc'!A0", "'+1", "'-2+3", "'\t10.0.0.1", "'@SUM(1,2)"
		}
		if !slices.Equal(records[i+1], wantRow) {
			t.Errorf("CSV row %d:\n got %q\nwant %q", i+1, records[i+1], wantRow)
		}
	}

	sc := bufio.NewScanner(bytes.NewReader(export(t, b, f, store.AuditFormatNDJSON)))
	n := 0
	for ; sc.Scan(); n++ {
		var got, exp map[string]any
		if err := json.Unmarshal(sc.Bytes(), &got); err != nil {
			t.Fatalf("NDJSON line %d: %v", n+1, err)
		}
		js, _ := json.Marshal(want[n])
		json.Unmarshal(js, &exp)
		if fmt.Sprint(got) != fmt.Sprint(exp) {
			t.Errorf("NDJSON line %d:\n got %v\nwant %v", n+1, got, exp)
		}
		if n == 0 && (got["hash"] != nil || got["chain_seq"] != nil || !strings.Contains(sc.Text(), `"<b>&</b>"`)) {
			t.Errorf("unsealed event: %s", sc.Text())
		}
		if n == 1 && got["hash"] != hex.EncodeToString(want[1].Hash) {
			t.Errorf("hash: got %v, want hex %x", got["hash"], want[1].Hash)
		}
	}
	if n != len(want) {
		t.Errorf("NDJSON lines: got %d, want %d", n, len(want))
	}
	if _, err := store.NewAuditEncoder(&bytes.Buffer{}, "xml"); err == nil {
		t.Error("format xml was accepted")
	}
}

func TestExportAudit_StreamsAcrossBatches(t *testing.T) {
	t.Parallel()
	b := setupAudit(t)
	mustExec(t, b.ctx, b.st.Pool(), `INSERT INTO audit_events (actor_type, action, outcome, app_id)
		SELECT 'system', CASE WHEN i % 2 = 0 THEN 'token.issue' ELSE 'token.revoke' END, 'success', 7
		FROM generate_series(1, 2500) AS i`)
	var ids []int64
	err := b.st.ExportAudit(b.ctx, store.AuditFilter{Action: "token.issue"}, func(e store.AuditEvent) error {
		if len(ids) > 0 && e.ID >= ids[len(ids)-1] {
			return fmt.Errorf("id %d after %d", e.ID, ids[len(ids)-1])
		}
		ids = append(ids, e.ID)
		return nil
	})
	if err != nil || len(ids) != 1250 {
		t.Fatalf("export: %d events, %v; want 1250 newest first", len(ids), err)
	}
	stop := fmt.Errorf("client went away")
	calls := 0
	err = b.st.ExportAudit(b.ctx, store.AuditFilter{}, func(store.AuditEvent) error { calls++; return stop })
	if err != stop || calls != 1 {
		t.Errorf("export stopping at the first error: got %v after %d calls", err, calls)
	}
}
