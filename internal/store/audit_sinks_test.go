package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

var sinkTestActor = Actor{Type: ActorOperator, ID: "1", Name: "root"}

// webhookSink creates a webhook sink to a loopback URL, delivering from
// chain position from.
func (b bundle) webhookSink(t *testing.T, name string, from int64, filter SinkFilter) (Sink, string) {
	t.Helper()
	k, secret, err := b.st.CreateSink(b.ctx, SinkInput{Name: name, Kind: SinkWebhook, URL: "http://127.0.0.1:9/hook",
		AllowPrivate: true, Headers: map[string]string{"Authorization": "Splunk hec-token-1234"}, Filter: filter, FromSeq: from},
		sinkTestActor, Origin{})
	if err != nil {
		t.Fatalf("create sink: %v", err)
	}
	return k, secret
}

// recorder is a SinkSender that keeps what it was sent and fails on demand.
type recorder struct {
	mu     sync.Mutex
	seqs   []int64
	failAt int64 // fail when asked to send this position (0: never)
	err    error
}

func (r *recorder) send(_ context.Context, _ Sink, _ SinkSecrets, events []AuditEvent) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, e := range events {
		if *e.ChainSeq == r.failAt {
			return i, r.err
		}
		r.seqs = append(r.seqs, *e.ChainSeq)
	}
	return len(events), nil
}

func retryIn(d time.Duration) SinkRetry {
	return func(int) (time.Duration, bool) { return d, false }
}

func TestCreateSink_RefusesMetadataLinkLocalAndUnallowedPrivateDestinations(t *testing.T) {
	t.Parallel()
	b := setup(t)
	cases := []struct {
		name string
		in   SinkInput
		want string // field with an error; "" = accepted
	}{
		{"metadata even when private ranges are allowed", SinkInput{Kind: SinkWebhook, URL: "http://169.254.169.254/latest", AllowPrivate: true}, "url"},
		{"link-local IPv6", SinkInput{Kind: SinkWebhook, URL: "http://[fe80::1]/x", AllowPrivate: true}, "url"},
		{"Alibaba metadata", SinkInput{Kind: SinkWebhook, URL: "http://100.100.100.200/", AllowPrivate: true}, "url"},
		{"loopback without the switch", SinkInput{Kind: SinkWebhook, URL: "http://127.0.0.1:8080/hook"}, "url"},
		{"localhost without the switch", SinkInput{Kind: SinkWebhook, URL: "http://localhost:8080/hook"}, "url"},
		{"private without the switch", SinkInput{Kind: SinkWebhook, URL: "https://10.1.2.3/hook"}, "url"},
		{"syslog to metadata", SinkInput{Kind: SinkSyslog, Address: "169.254.169.254:6514", AllowPrivate: true}, "address"},
		{"credentials in the URL", SinkInput{Kind: SinkWebhook, URL: "https://user:pw@siem.example/hook"}, "url"},
		{"not http", SinkInput{Kind: SinkWebhook, URL: "ftp://siem.example/"}, "url"},
		{"reserved header", SinkInput{Kind: SinkWebhook, URL: "https://192.0.2.10/", Headers: map[string]string{"webhook-signature": "x"}}, "headers"},
		{"header value with a newline", SinkInput{Kind: SinkWebhook, URL: "https://192.0.2.10/", Headers: map[string]string{"X-A": "a\r\nB: c"}}, "headers"},
		{"file outside the sink directory", SinkInput{Kind: SinkFile, Path: "../etc/passwd"}, "path"},
		{"setting of another kind", SinkInput{Kind: SinkFile, Path: "audit.ndjson", URL: "https://192.0.2.10/"}, "url"},
		{"bad filter action", SinkInput{Kind: SinkFile, Path: "a.ndjson", Filter: SinkFilter{Actions: []string{"DROP TABLE"}}}, "filter"},
		{"loopback with the switch", SinkInput{Kind: SinkWebhook, URL: "http://127.0.0.1:8080/hook", AllowPrivate: true}, ""},
		{"public documentation address", SinkInput{Kind: SinkWebhook, URL: "https://192.0.2.10/hook?token=x"}, ""},
	}
	for i, c := range cases {
		c.in.Name = fmt.Sprintf("sink-%d", i)
		_, _, err := b.st.CreateSink(b.ctx, c.in, sinkTestActor, Origin{})
		if c.want == "" {
			if err != nil {
				t.Errorf("%s: got %v, want it accepted", c.name, err)
			}
			continue
		}
		if fe := FieldErrors(err); fe[c.want] == "" {
			t.Errorf("%s: got %v, want a field error on %s", c.name, err, c.want)
		}
	}
	if n := b.queryInt(t, `SELECT count(*) FROM audit_sinks`); n != 2 {
		t.Errorf("got %d sinks stored, want the 2 accepted ones", n)
	}
}

func TestCreateSink_SecretShownOnceHeadersEncryptedAndAudited(t *testing.T) {
	t.Parallel()
	b := setup(t)
	k, secret := b.webhookSink(t, "splunk", 0, SinkFilter{})
	if !strings.HasPrefix(secret, "whsec_") || len(secret) < 40 {
		t.Fatalf("got secret %q, want whsec_ and 32 bytes of base64", secret)
	}
	var config, sealed string
	if err := b.owner.Pool().QueryRow(b.ctx, `SELECT config::text, encode(secret_ciphertext, 'escape') FROM audit_sinks WHERE id = $1`,
		k.ID).Scan(&config, &sealed); err != nil {
		t.Fatal(err)
	}
	for _, plain := range []string{"hec-token-1234", strings.TrimPrefix(secret, "whsec_")} {
		if strings.Contains(config+sealed, plain) {
			t.Errorf("the stored row holds %q in plaintext", plain)
		}
	}
	got, err := b.st.GetSink(b.ctx, k.ID)
	if err != nil {
		t.Fatal(err)
	}
	sec, err := b.st.OpenSinkSecrets(got)
	if err != nil {
		t.Fatal(err)
	}
	if sec.Headers["Authorization"] != "Splunk hec-token-1234" || len(sec.WebhookSecrets) != 1 || sec.WebhookSecrets[0].Secret != secret {
		t.Errorf("got secrets %+v, want the header and the one signing secret back", sec)
	}
	var details string
	if err := b.st.Pool().QueryRow(b.ctx, `SELECT details::text FROM audit_events WHERE action = 'sink.create'`).Scan(&details); err != nil {
		t.Fatalf("sink.create audit event: %v", err)
	}
	if strings.Contains(details, "hec-token") || strings.Contains(details, "whsec_") || !strings.Contains(details, `"Authorization"`) {
		t.Errorf("got sink.create details %s, want header names without values and no secret", details)
	}

	rotated, err := b.st.RotateSinkSecret(b.ctx, k.ID, sinkTestActor, Origin{})
	if err != nil {
		t.Fatal(err)
	}
	got, _ = b.st.GetSink(b.ctx, k.ID)
	sec, _ = b.st.OpenSinkSecrets(got)
	if n := len(sec.SigningKeys(time.Now())); n != 2 || sec.WebhookSecrets[0].Secret != rotated {
		t.Errorf("after rotation: got %d signing keys, want 2, the new one first", n)
	}
	if n := len(sec.SigningKeys(time.Now().Add(25 * time.Hour))); n != 1 {
		t.Errorf("a day after rotation: got %d signing keys, want only the new one", n)
	}
}

func TestDeliverSinkBatch_InChainOrderOnlySealedAndResumesAfterAFailure(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.audit(t, 5)
	b.sealAll(t)
	k, _ := b.webhookSink(t, "hook", 1, SinkFilter{})
	b.audit(t, 3) // unsealed: not delivered yet
	r := &recorder{failAt: 4, err: errors.New("503 from receiver")}
	round, err := b.st.DeliverSinkBatch(b.ctx, k.ID, 100, r.send, retryIn(0))
	if err != nil {
		t.Fatal(err)
	}
	// The sink.create event is sealed after the first five only once sealed.
	if round.Delivered != 3 || round.SendErr == nil || round.Cursor != 3 {
		t.Fatalf("got round %+v, want 3 delivered, the error, cursor 3", round)
	}
	got, _ := b.st.GetSink(b.ctx, k.ID)
	if got.Attempts != 1 || got.Failed != 1 || got.LastError != "503 from receiver" || got.CursorSeq != 3 {
		t.Errorf("got sink %+v, want 1 attempt, 1 failure, the error and cursor 3", got)
	}
	r.failAt = 0
	b.sealAll(t)
	for {
		round, err := b.st.DeliverSinkBatch(b.ctx, k.ID, 2, r.send, retryIn(0))
		if err != nil {
			t.Fatal(err)
		}
		if round.Read == 0 {
			break
		}
	}
	var want []int64
	for i := range int64(b.queryInt(t, `SELECT max(chain_seq) FROM audit_chain`)) {
		want = append(want, i+1)
	}
	if fmt.Sprint(r.seqs) != fmt.Sprint(want) {
		t.Errorf("got positions %v, want each of %v once, in order", r.seqs, want)
	}
}

func TestDeliverSinkBatch_FilterSkipsButAnchorsPassAndReplayResends(t *testing.T) {
	t.Parallel()
	b := setup(t)
	k, _ := b.webhookSink(t, "denials", 1, SinkFilter{Outcomes: []string{OutcomeDenied}})
	b.audit(t, 2)
	denied := auditTestEvent(9)
	denied.Outcome = OutcomeDenied
	if err := b.st.Audit(b.ctx, denied); err != nil {
		t.Fatal(err)
	}
	b.sealAll(t)
	if _, err := b.st.EmitAuditAnchor(b.ctx, 0); err != nil {
		t.Fatal(err)
	}
	b.sealAll(t)
	r := &recorder{}
	round, err := b.st.DeliverSinkBatch(b.ctx, k.ID, 100, r.send, retryIn(0))
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(r.seqs) != "[4 5]" || round.Cursor != 5 {
		t.Fatalf("got %v (cursor %d), want the denial (4) and the anchor (5), cursor 5", r.seqs, round.Cursor)
	}
	if _, err := b.st.ReplaySink(b.ctx, k.ID, 5, sinkTestActor, Origin{}); err != nil {
		t.Fatal(err)
	}
	b.sealAll(t)
	r.seqs = nil
	if _, err := b.st.DeliverSinkBatch(b.ctx, k.ID, 100, r.send, retryIn(0)); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(r.seqs) != "[5]" {
		t.Errorf("after replay from 5: got %v, want [5]", r.seqs)
	}
}

func TestDeliverSinkBatch_GoneDisablesTheSinkAndAuditsIt(t *testing.T) {
	t.Parallel()
	b := setup(t)
	k, _ := b.webhookSink(t, "gone", 1, SinkFilter{})
	b.audit(t, 1)
	b.sealAll(t)
	r := &recorder{failAt: 1, err: fmt.Errorf("POST: %w", ErrSinkGone)}
	round, err := b.st.DeliverSinkBatch(b.ctx, k.ID, 100, r.send, retryIn(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := b.st.GetSink(b.ctx, k.ID)
	if !round.Disabled || got.State != SinkDisabled || got.CursorSeq != 0 {
		t.Errorf("got round %+v, sink state %s cursor %d; want disabled with the cursor kept", round, got.State, got.CursorSeq)
	}
	if n := b.queryInt(t, `SELECT count(*) FROM audit_events WHERE action = 'sink.disable'`); n != 1 {
		t.Errorf("got %d sink.disable events, want 1", n)
	}
	if ids, _ := b.st.DueSinks(b.ctx); len(ids) != 0 {
		t.Errorf("got due sinks %v, want none while disabled", ids)
	}
	if _, err := b.st.SetSinkState(b.ctx, k.ID, SinkActive, sinkTestActor, Origin{}); err != nil {
		t.Fatal(err)
	}
	if ids, _ := b.st.DueSinks(b.ctx); len(ids) != 1 {
		t.Errorf("got due sinks %v after resume, want it due at once", ids)
	}
}

func TestDeliverSinkBatch_OneInstanceAtATime(t *testing.T) {
	t.Parallel()
	b := setup(t)
	k, _ := b.webhookSink(t, "hook", 1, SinkFilter{})
	b.audit(t, 1)
	b.sealAll(t)
	other := b.open(t)
	inside, release := make(chan struct{}), make(chan struct{})
	slow := func(_ context.Context, _ Sink, _ SinkSecrets, events []AuditEvent) (int, error) {
		close(inside)
		<-release
		return len(events), nil
	}
	done := make(chan SinkRound)
	go func() {
		round, err := b.st.DeliverSinkBatch(b.ctx, k.ID, 100, slow, retryIn(0))
		if err != nil {
			t.Error(err)
		}
		done <- round
	}()
	<-inside
	r := &recorder{}
	round, err := other.DeliverSinkBatch(b.ctx, k.ID, 100, r.send, retryIn(0))
	if err != nil {
		t.Fatal(err)
	}
	if !round.Busy || len(r.seqs) != 0 {
		t.Errorf("second instance: got %+v sending %v, want busy and nothing sent", round, r.seqs)
	}
	close(release)
	if first := <-done; first.Delivered != 2 {
		t.Errorf("first instance delivered %d, want 2", first.Delivered)
	}
	round, _ = other.DeliverSinkBatch(b.ctx, k.ID, 100, r.send, retryIn(0))
	if round.Read != 0 || len(r.seqs) != 0 {
		t.Errorf("second instance after the first: got %+v sending %v, want nothing left", round, r.seqs)
	}
}

func TestCheckAnchors_NamesARollbackPastADeliveredAnchor(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.audit(t, 3)
	b.sealAll(t)
	var oldHead [3][]byte // seq 3's signed head: what a rollback restores
	if err := b.st.Pool().QueryRow(b.ctx, `SELECT chain_seq::text::bytea, hash, mac FROM audit_chain_head`).Scan(&oldHead[0], &oldHead[1], &oldHead[2]); err != nil {
		t.Fatal(err)
	}
	b.audit(t, 2)
	b.sealAll(t)
	if ok, err := b.st.EmitAuditAnchor(b.ctx, time.Hour); err != nil || !ok {
		t.Fatalf("emit anchor: %v %v, want one emitted", ok, err)
	}
	if ok, _ := b.st.EmitAuditAnchor(b.ctx, time.Hour); ok {
		t.Error("a second anchor within the interval was emitted")
	}
	b.sealAll(t)
	var line []byte
	page, err := b.st.ListAudit(b.ctx, AuditFilter{Action: AnchorAction}, "", 1)
	if err != nil || len(page.Events) != 1 {
		t.Fatalf("anchor event: %v %d", err, len(page.Events))
	}
	line, _ = page.Events[0].MarshalJSON()
	anchor, err := ParseAnchorEvent(line)
	if err != nil || anchor.Seq != 5 {
		t.Fatalf("parse anchor: %+v %v, want seq 5", anchor, err)
	}
	if r, err := b.st.CheckAnchors(b.ctx, []Anchor{anchor}); err != nil || !r.OK {
		t.Fatalf("intact chain: got %+v %v, want OK", r, err)
	}

	su := b.superuser(t)
	mustExec(t, b.ctx, su, `DELETE FROM audit_events WHERE id NOT IN (SELECT event_id FROM audit_chain WHERE chain_seq <= 3)`)
	mustExec(t, b.ctx, su, `DELETE FROM audit_chain WHERE chain_seq > 3`)
	mustExec(t, b.ctx, su, `DELETE FROM audit_unsealed`)
	mustExec(t, b.ctx, su, `DELETE FROM audit_checkpoints WHERE chain_seq > 3`)
	mustExec(t, b.ctx, su, `UPDATE audit_chain_head SET chain_seq = 3, hash = $1, mac = $2`, oldHead[1], oldHead[2])
	if r := b.verify(t); !r.OK {
		t.Fatalf("the rolled-back chain should verify on its own (that is the point), got %+v", r)
	}
	r, err := b.st.CheckAnchors(b.ctx, []Anchor{anchor})
	if err != nil {
		t.Fatal(err)
	}
	if r.OK || r.BreakKind != BreakAnchorRolledBack || r.BreakSeq != 4 || !strings.Contains(r.Message, "rolled back") {
		t.Errorf("got %+v, want rolled_back at seq 4", r)
	}
	anchor.MAC = bytes.Repeat([]byte{1}, 32)
	if r, _ := b.st.CheckAnchors(b.ctx, []Anchor{anchor}); r.BreakKind != BreakAnchorMAC {
		t.Errorf("forged anchor: got %+v, want %s", r, BreakAnchorMAC)
	}
}

func TestVerifyAuditNDJSON_ChecksAStreamInEitherOrder(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.audit(t, 4)
	b.sealAll(t)
	if _, err := b.st.EmitAuditAnchor(b.ctx, 0); err != nil {
		t.Fatal(err)
	}
	b.audit(t, 2)
	b.sealAll(t)
	events, _, err := b.st.ReadAuditChain(b.ctx, AuditFilter{}, 0, 100)
	if err != nil || len(events) != 7 {
		t.Fatalf("read chain: %d events, %v", len(events), err)
	}
	var asc, desc []string
	for _, e := range events {
		line, _ := e.MarshalJSON()
		asc = append(asc, string(line))
		desc = append([]string{string(line)}, desc...)
	}
	keys, _ := b.st.macKeys()
	for name, lines := range map[string][]string{"chain order": asc, "newest first": desc} {
		r, err := VerifyAuditNDJSON(strings.NewReader(strings.Join(lines, "\n")), keys)
		if err != nil || !r.OK || r.Events != 7 || r.Checkpoints != 1 {
			t.Errorf("%s: got %+v %v, want 7 events and the anchor matched", name, r, err)
		}
	}
	tampered := append([]string{}, asc...)
	tampered[2] = strings.Replace(tampered[2], `"alice"`, `"mallory"`, 1)
	if r, _ := VerifyAuditNDJSON(strings.NewReader(strings.Join(tampered, "\n")), keys); r.OK || r.BreakKind != BreakHash || r.BreakSeq != 3 {
		t.Errorf("changed event: got %+v, want hash_mismatch at 3", r)
	}
	gap := append(append([]string{}, asc[:2]...), asc[3:]...)
	if r, _ := VerifyAuditNDJSON(strings.NewReader(strings.Join(gap, "\n")), keys); r.OK || r.BreakKind != BreakGap || r.BreakSeq != 3 {
		t.Errorf("missing event: got %+v, want gap at 3", r)
	}
	if r, _ := VerifyAuditNDJSON(strings.NewReader(strings.Join(asc, "\n")), [][]byte{bytes.Repeat([]byte{7}, 32)}); r.OK || r.BreakKind != BreakAnchorMAC {
		t.Errorf("another audit key: got %+v, want %s", r, BreakAnchorMAC)
	}
}

func TestRekey_MovesSinkSecretsToTheNewMasterKeyToo(t *testing.T) {
	t.Parallel()
	b := setup(t)
	k, secret := b.webhookSink(t, "hook", 0, SinkFilter{})
	newKey := []byte("0123456789abcdef0123456789ABCDEF")
	both, _ := NewKeyring(newKey, []byte{7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7})
	st2, err := Open(b.ctx, b.db.RuntimeURL, both)
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	if n, err := st2.Rekey(b.ctx, sinkTestActor, Origin{}); err != nil || n != 1 {
		t.Fatalf("rekey: got %d, %v; want the sink's secrets re-encrypted", n, err)
	}
	onlyNew, _ := NewKeyring(newKey)
	st3, _ := Open(b.ctx, b.db.RuntimeURL, onlyNew)
	defer st3.Close()
	got, _ := st3.GetSink(b.ctx, k.ID)
	sec, err := st3.OpenSinkSecrets(got)
	if err != nil || sec.WebhookSecrets[0].Secret != secret || sec.Headers["Authorization"] == "" {
		t.Fatalf("after rekey, the new key alone must open the sink's secrets: %v", err)
	}
}
