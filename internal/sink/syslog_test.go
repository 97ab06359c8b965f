package sink_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/zegocloud-console/console/internal/sink"
	"github.com/zegocloud-console/console/internal/store"
)

// rsyslogRecord is what the private rsyslogd wrote of one message.
type rsyslogRecord struct {
	Version, App, MsgID, SD, Pri, Msg string
}

var (
	sdSeqRe  = regexp.MustCompile(`\[audit@32473 chain_seq="(\d+)"`)
	sdPartRe = regexp.MustCompile(`\[part@32473 n="(\d+)" of="(\d+)"\]`)
)

func readRsyslog(t *testing.T, path string) []rsyslogRecord {
	t.Helper()
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []rsyslogRecord
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r struct {
			Version string `json:"version"`
			App     string `json:"app"`
			MsgID   string `json:"msgid"`
			SD      string `json:"sd"`
			Pri     string `json:"pri"`
			Msg     string `json:"msg"`
		}
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("rsyslog wrote %q: %v", sc.Text(), err)
		}
		out = append(out, rsyslogRecord{r.Version, r.App, r.MsgID, r.SD, r.Pri, r.Msg})
	}
	return out
}

func TestSyslog_EveryEventReachesARealRsyslogOnceAsRFC5424OverTLS(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	pki := newTestPKI(t)
	rs := startRsyslog(t, pki)
	k, _, err := e.st.CreateSink(t.Context(), store.SinkInput{Name: "rsyslog", Kind: store.SinkSyslog, Address: rs.Addr,
		CAPEM: pki.CA, ClientCert: pki.ClientCert, ClientKey: pki.ClientKey, AllowPrivate: true, MaxMessage: 2048, FromSeq: 1},
		testActor, store.Origin{})
	if err != nil {
		t.Fatal(err)
	}
	e.events(25)
	// One event far larger than the receiver's limit: it must arrive in parts.
	if err := e.st.Audit(t.Context(), store.Event{Actor: testActor, Action: "project.update", Outcome: store.OutcomeDenied,
		Details: map[string]any{"note": strings.Repeat("ü big ", 600)}}); err != nil {
		t.Fatal(err)
	}
	e.seal()
	e.runner(sink.NewDeliverer(sink.Options{}), "10ms")
	head := e.head()
	waitFor(t, "the sink caught up", func() (bool, string) {
		got := e.sink(k.ID)
		return got.CursorSeq == head, fmt.Sprintf("cursor %d of %d, last error %q", got.CursorSeq, head, got.LastError)
	})
	parts := map[int64][]string{}
	waitFor(t, "rsyslog wrote every message", func() (bool, string) {
		clear(parts)
		for _, r := range readRsyslog(t, rs.Out) {
			m := sdSeqRe.FindStringSubmatch(r.SD)
			if r.Version != "1" || r.App != "zego-console" || m == nil || r.MsgID == "-" {
				t.Fatalf("got a message rsyslog did not parse as RFC 5424 from the console: %+v", r)
			}
			seq, _ := strconv.ParseInt(m[1], 10, 64)
			n, of := 1, 1
			if p := sdPartRe.FindStringSubmatch(r.SD); p != nil {
				n, _ = strconv.Atoi(p[1])
				of, _ = strconv.Atoi(p[2])
			}
			if len(parts[seq]) == 0 {
				parts[seq] = make([]string, of)
			}
			if n < 1 || n > len(parts[seq]) || parts[seq][n-1] != "" {
				t.Fatalf("seq %d: part %d of %d arrived twice or out of range", seq, n, of)
			}
			parts[seq][n-1] = strings.TrimPrefix(r.Msg, "\ufeff")
		}
		return int64(len(parts)) == head, fmt.Sprintf("%d of %d events", len(parts), head)
	})
	var lines []string
	seqs := make([]int64, 0, len(parts))
	for seq := range parts {
		seqs = append(seqs, seq)
	}
	sort.Slice(seqs, func(i, j int) bool { return seqs[i] < seqs[j] })
	split := 0
	for _, seq := range seqs {
		if len(parts[seq]) > 1 {
			split++
		}
		lines = append(lines, strings.Join(parts[seq], ""))
	}
	wantSeqs(t, seqs, head)
	if split != 1 {
		t.Errorf("got %d events split into parts, want the one large event", split)
	}
	r, err := store.VerifyAuditNDJSON(strings.NewReader(strings.Join(lines, "\n")), nil)
	if err != nil || !r.OK || r.Events != head {
		t.Errorf("the events rsyslog received do not verify as a chain: %+v %v", r, err)
	}
}

func TestSyslogMessages_SplitVisiblyNeverDrop(t *testing.T) {
	seq := int64(7)
	e := store.AuditEvent{ID: 9, ChainSeq: &seq, Action: "token.issue", Outcome: store.OutcomeSuccess,
		Details: []byte(`{"x": "` + strings.Repeat("é", 3000) + `"}`), PrevHash: make([]byte, 32), Hash: make([]byte, 32)}
	msgs := sink.SyslogMessages(&e, 13, "host", 1000)
	whole, _ := e.MarshalJSON()
	var joined strings.Builder
	for i, m := range msgs {
		if len(m) > 1000 {
			t.Errorf("message %d is %d bytes, over the limit of 1000", i, len(m))
		}
		if !strings.HasPrefix(m, "<110>1 ") || !strings.Contains(m, fmt.Sprintf(`[part@32473 n="%d" of="%d"]`, i+1, len(msgs))) {
			t.Errorf("message %d: %.120q, want PRI 110 (log audit, info), version 1 and its part", i, m)
		}
		_, body, _ := strings.Cut(m, "\ufeff")
		joined.WriteString(body)
	}
	if joined.String() != string(whole) || len(msgs) < 7 {
		t.Errorf("got %d parts that join to %d bytes, want the whole %d-byte event", len(msgs), joined.Len(), len(whole))
	}
}
