package store

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// export runs ExportAudit into an encoder of format.
func export(t *testing.T, b bundle, f AuditFilter, format string) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc, err := NewAuditEncoder(&buf, format)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.st.ExportAudit(b.ctx, f, 0, enc.Write); err != nil {
		t.Fatalf("export %s: %v", format, err)
	}
	if err := enc.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestExportAudit_CSVAndNDJSONMatchListAudit(t *testing.T) {
	t.Parallel()
	b := setup(t)
	seedQueryEvents(t, b)
	evil := Event{
		Actor:  Actor{Type: ActorOperator, ID: "-1", Name: "=cmd|' /C calc'!A0"},
		Origin: Origin{RequestID: "-2+3", ClientIP: "\t10.0.0.1", UserAgent: "@SUM(1,2)"},
		Action: "token.issue", Outcome: OutcomeSuccess, AppID: 1001,
		TargetType: "token", TargetID: "+1", Details: map[string]any{"x": "=1", "html": "<b>&</b>"},
	}
	b.insertAt(t, queryBase.Add(500*time.Hour), evil) // stays unsealed: no chain_seq, no hash
	f := AuditFilter{AppID: 1001, Action: "token.*"}
	page, err := b.st.ListAudit(b.ctx, f, "", MaxAuditPageSize)
	if err != nil {
		t.Fatal(err)
	}
	want := page.Events
	if len(want) < 10 {
		t.Fatalf("only %d events to export", len(want))
	}

	records, err := csv.NewReader(bytes.NewReader(export(t, b, f, AuditFormatCSV))).ReadAll()
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

	sc := bufio.NewScanner(bytes.NewReader(export(t, b, f, AuditFormatNDJSON)))
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
	if _, err := NewAuditEncoder(&bytes.Buffer{}, "xml"); err == nil {
		t.Error("format xml was accepted")
	}
}

func TestExportAudit_StreamsAcrossBatches(t *testing.T) {
	t.Parallel()
	b := setup(t)
	mustExec(t, b.ctx, b.st.Pool(), `INSERT INTO audit_events (actor_type, action, outcome, app_id)
		SELECT 'system', CASE WHEN i % 2 = 0 THEN 'token.issue' ELSE 'token.revoke' END, 'success', 7
		FROM generate_series(1, $1) AS i`, 4*auditExportBatch+500) // three batches of token.issue, the last short
	var ids []int64
	err := b.st.ExportAudit(b.ctx, AuditFilter{Action: "token.issue"}, 0, func(e AuditEvent) error {
		if len(ids) > 0 && e.ID >= ids[len(ids)-1] {
			return fmt.Errorf("id %d after %d", e.ID, ids[len(ids)-1])
		}
		ids = append(ids, e.ID)
		return nil
	})
	if want := 2*auditExportBatch + 250; err != nil || len(ids) != want {
		t.Fatalf("export: %d events, %v; want %d newest first", len(ids), err, want)
	}
	stop := fmt.Errorf("client went away")
	calls := 0
	err = b.st.ExportAudit(b.ctx, AuditFilter{}, 0, func(AuditEvent) error { calls++; return stop })
	if err != stop || calls != 1 {
		t.Errorf("export stopping at the first error: got %v after %d calls", err, calls)
	}
	// A client that goes away in the second batch ends the export with an
	// error, not as if it were complete.
	ctx, cancel := context.WithCancel(b.ctx)
	calls = 0
	err = b.st.ExportAudit(ctx, AuditFilter{}, 0, func(AuditEvent) error {
		if calls++; calls == auditExportBatch+1 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) || calls > 2*auditExportBatch {
		t.Errorf("export cancelled in its second batch: got %v after %d events, want context.Canceled within two batches", err, calls)
	}
}

// legacyAuditJSON is the JSON form of an event as encoding/json wrote it
// before NDJSON was written by hand: the reference for the bytes.
type legacyAuditJSON struct {
	ID               int64           `json:"id"`
	OccurredAt       string          `json:"occurred_at"`
	ActorType        string          `json:"actor_type"`
	ActorID          string          `json:"actor_id"`
	ActorName        string          `json:"actor_name"`
	Action           string          `json:"action"`
	Outcome          string          `json:"outcome"`
	AppID            *int64          `json:"app_id"`
	TargetType       string          `json:"target_type"`
	TargetID         string          `json:"target_id"`
	RequestID        string          `json:"request_id"`
	ClientIP         string          `json:"client_ip"`
	UserAgent        string          `json:"user_agent"`
	Details          json.RawMessage `json:"details"`
	TokenFingerprint *string         `json:"token_fingerprint"`
	ChainSeq         *int64          `json:"chain_seq"`
	PrevHash         *string         `json:"prev_hash"`
	Hash             *string         `json:"hash"`
	ProjectID        *int64          `json:"project_id"`
	CanonicalVersion int16           `json:"canonical_version"`
}

// legacyNDJSON is the NDJSON line encoding/json writes for e.
func legacyNDJSON(t testing.TB, e AuditEvent) []byte {
	t.Helper()
	hexOrNil := func(b []byte) *string {
		if b == nil {
			return nil
		}
		s := hex.EncodeToString(b)
		return &s
	}
	details := e.Details
	if len(details) == 0 {
		details = json.RawMessage(`{}`)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(legacyAuditJSON{
		ID: e.ID, OccurredAt: e.OccurredAt.UTC().Format(time.RFC3339Nano),
		ActorType: e.ActorType, ActorID: e.ActorID, ActorName: e.ActorName, Action: e.Action, Outcome: e.Outcome,
		AppID: e.AppID, TargetType: e.TargetType, TargetID: e.TargetID, RequestID: e.RequestID,
		ClientIP: e.ClientIP, UserAgent: e.UserAgent, Details: details,
		TokenFingerprint: hexOrNil(e.TokenFingerprint), ChainSeq: e.ChainSeq, PrevHash: hexOrNil(e.PrevHash), Hash: hexOrNil(e.Hash),
		ProjectID: e.ProjectID, CanonicalVersion: e.CanonicalVersion,
	}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// ndjsonLine encodes e alone through the NDJSON encoder.
func ndjsonLine(t testing.TB, e AuditEvent) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc, err := NewAuditEncoder(&buf, AuditFormatNDJSON)
	if err != nil {
		t.Fatal(err)
	}
	if err := enc.Write(e); err != nil {
		t.Fatal(err)
	}
	if err := enc.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// sampleAuditEvent is a sealed event shaped like the ones the console writes.
func sampleAuditEvent(i int) AuditEvent {
	app, seq := int64(900001+i%20), int64(1000+i)
	fp := sha256.Sum256([]byte(fmt.Sprint("token-", i)))
	hash := sha256.Sum256([]byte(fmt.Sprint("hash-", i)))
	return AuditEvent{
		ID: int64(i + 1), OccurredAt: time.Date(2024, 5, 1, 13, 30, 0, (i%1000)*1000, time.UTC),
		ActorType: ActorAPIKey, ActorID: "17", ActorName: "backend-service", Action: "token.issue",
		Outcome: OutcomeSuccess, AppID: &app, TargetType: "token", TargetID: fmt.Sprintf("user-%d", i),
		RequestID: fmt.Sprintf("01HX%016d", i), ClientIP: "10.1.2.3", UserAgent: "backend/2.4 (go1.26; linux)",
		Details:          json.RawMessage(fmt.Sprintf(`{"ttl":3600,"user_id":"user-%d","payload_bytes":0}`, i)),
		TokenFingerprint: fp[:], ChainSeq: &seq, Hash: hash[:],
	}
}

func TestAuditNDJSON_WritesTheBytesOfEncodingJSON(t *testing.T) {
	t.Parallel()
	unsealed := sampleAuditEvent(3)
	unsealed.AppID, unsealed.ChainSeq, unsealed.Hash, unsealed.TokenFingerprint, unsealed.Details = nil, nil, nil, nil, nil
	unsealed.OccurredAt = time.Date(2024, 5, 1, 15, 30, 0, 0, time.FixedZone("CEST", 2*3600))
	odd := sampleAuditEvent(4)
	odd.ActorName = "quote \" backslash \\ slash / <b>&amp;</b>"
	odd.TargetID = "controls \x00\x01\b\f\n\r\t\x1f\x7f end"
	odd.UserAgent = "line sep \u2028 para sep \u2029 emoji 🎟 accents é"
	odd.RequestID = "bad utf-8 \xff\xfe and cut \xe2\x80 end"
	odd.ClientIP = ""
	odd.Details = json.RawMessage(`{"html":"<b>&</b>","nested":{"a":[1,2.5,null,true]}}`)
	odd.TokenFingerprint = []byte{}
	for name, e := range map[string]AuditEvent{"sealed": sampleAuditEvent(1), "unsealed": unsealed, "odd strings": odd} {
		got, want := ndjsonLine(t, e), legacyNDJSON(t, e)
		if !bytes.Equal(got, want) {
			t.Errorf("%s:\n got %s\nwant %s", name, got, want)
		}
		// The API writes MarshalJSON's output through an encoder like this.
		var api bytes.Buffer
		enc := json.NewEncoder(&api)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(e); err != nil || !bytes.Equal(api.Bytes(), want) {
			t.Errorf("%s: MarshalJSON: got %s (%v), want %s", name, api.Bytes(), err, want)
		}
	}
}

// FuzzAuditNDJSON: whatever the strings, the NDJSON line is the one
// encoding/json writes.
func FuzzAuditNDJSON(f *testing.F) {
	for _, s := range []string{"", "plain", "\"\\/", "\x00\x1f\x7f", "<>&", "\u2028\u2029", "\xff", "\xe2\x80", "é🎟"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e := sampleAuditEvent(1)
		e.ActorName, e.TargetID, e.UserAgent = s, s+s, "x"+s
		if got, want := ndjsonLine(t, e), legacyNDJSON(t, e); !bytes.Equal(got, want) {
			t.Fatalf("%q:\n got %s\nwant %s", s, got, want)
		}
	})
}

// The console's connections compile no query (JIT), unless its database
// URL asks them to: compiling a query of the trail's partitions took half
// of each export batch's time.
func TestOpen_ConnectionsRunWithoutJITUnlessTheURLAsksForIt(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for url, want := range map[string]string{b.db.RuntimeURL: "off", b.db.RuntimeURL + "&jit=on": "on"} {
		st, err := Open(b.ctx, url, b.st.Keys())
		if err != nil {
			t.Fatal(err)
		}
		var jit string
		err = st.Pool().QueryRow(b.ctx, `SHOW jit`).Scan(&jit)
		st.Close()
		if err != nil || jit != want {
			t.Errorf("%s: got jit %q, %v; want %q", url, jit, err, want)
		}
	}
}

// An export's batches walk an index in the listing order, whatever the
// planner estimates: gathering a month's events of a project and sorting
// them to keep a batch made each batch read the rest of the month.
func TestExportAudit_BatchesWalkAnIndexInOrderReadingOnlyTheBatch(t *testing.T) {
	t.Parallel()
	b := setup(t)
	// A big project among many small ones: read project by project, the
	// planner takes it for one of the small.
	mustExec(t, b.ctx, b.st.Pool(), `INSERT INTO audit_events (actor_type, action, outcome, app_id)
		SELECT 'system', 'token.issue', 'success', CASE WHEN i <= 3000 THEN 7 ELSE 1000 + i % 300 END
		FROM generate_series(1, 6000) AS i`)
	b.sealAll(t)
	mustExec(t, b.ctx, b.owner.Pool(), `ANALYZE audit_events`)
	const batch = 2000 // most of the big project's events, as an export's batch may be of a month's
	for _, f := range []AuditFilter{{AppID: 7}, {AppID: 7, Action: "token.issue"}, {AppID: 7, Outcome: "success"}, {AppIDs: []uint32{7, 1001}}} {
		sql, args := f.query(nil, batch)
		plan := explainAnalyze(t, b.ctx, b.st.Pool(), f.walkSettings(), sql, args)
		// Each project's newest, then the batch read by key.
		want := float64(batch + 10)
		if apps, _ := f.projects(); len(apps) > 1 {
			want = float64(batch*(len(apps)+1) + 10)
		}
		if read := rowsRead(plan); read > want {
			t.Errorf("export batch of %d with %+v read %.0f rows of audit_events, want at most %.0f: it gathered more to sort them", batch, f, read, want)
		}
	}
}
