package store

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/zegocloud-console/console/internal/token04"
)

// batchRequests are n requests for project 1001, each with its own user,
// room, privileges and lifetime.
func batchRequests(n int) []IssueRequest {
	reqs := make([]IssueRequest, n)
	for i := range reqs {
		reqs[i] = IssueRequest{AppID: 1001, UserID: fmt.Sprintf("student-%04d", i), RoomID: fmt.Sprintf("room-%d", i%7),
			Privileges: &Privileges{Login: true, Publish: i%2 == 0}, TTL: time.Duration(60+i) * time.Second,
			Mode: token04.ModeGCM, Channel: ChannelAPI, Actor: testActor, Origin: testOrigin}
	}
	return reqs
}

func TestIssueTokens_AThousandTokensEachWithItsRecordAndEventInOneCommit(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.createProject(t, 1001)
	reqs := batchRequests(MaxBatchTokens)
	issued, err := b.st.IssueTokens(b.ctx, reqs)
	if err != nil {
		t.Fatal(err)
	}
	if len(issued) != len(reqs) {
		t.Fatalf("tokens: got %d, want %d", len(issued), len(reqs))
	}
	results := make([]groupResult, len(reqs))
	for i, it := range issued {
		results[i] = groupResult{req: reqs[i], issued: it}
		rec := it.Record
		if rec.UserID != reqs[i].UserID || rec.RoomID != reqs[i].RoomID || rec.Expire.Sub(rec.CTime) != reqs[i].TTL ||
			*rec.PrivilegePublish != reqs[i].Privileges.Publish {
			t.Fatalf("token %d: got record %+v, want one for %+v", i, rec, reqs[i])
		}
		d, err := token04.Decode(it.Token, []byte(testSecret), token04.DecodeOptions{ExpectAppID: 1001})
		if err != nil || d.Claims.UserID != reqs[i].UserID {
			t.Fatalf("token %d: got claims %+v (%v), want those of %s", i, d.Claims, err, reqs[i].UserID)
		}
	}
	b.wantRecordsAndEventsOf(t, results)
	if n := b.queryInt(t, `SELECT count(DISTINCT xmin::text) FROM issued_tokens`); n != 1 {
		t.Errorf("transactions that wrote the records: got %d, want 1", n)
	}
}

func TestIssueTokens_AnInvalidTokenIssuesNoneAndEveryFaultIsNamedByIndexAndField(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.createProject(t, 1001)
	reqs := batchRequests(10)
	reqs[3].UserID = ""
	reqs[7].TTL = 48 * time.Hour
	reqs[7].RoomID = string(make([]byte, 200))
	_, err := b.st.IssueTokens(b.ctx, reqs)
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("got %v, want a ValidationError", err)
	}
	want := []string{"tokens[3].user_id", "tokens[7].room_id", "tokens[7].ttl_seconds"}
	var got []string
	for f := range ve.Fields {
		got = append(got, f)
	}
	if len(got) != len(want) {
		t.Fatalf("fields at fault: got %v, want %v", ve.Fields, want)
	}
	for _, f := range want {
		if ve.Fields[f] == "" {
			t.Errorf("fields at fault: got %v, want %s among them", ve.Fields, f)
		}
	}
	b.wantNothingIssued(t)
}

func TestIssueTokens_RefusesAnEmptyListAndMoreThanTheMaximum(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.createProject(t, 1001)
	for _, n := range []int{0, MaxBatchTokens + 1} {
		_, err := b.st.IssueTokens(b.ctx, batchRequests(n))
		if fe := FieldErrors(err); fe["tokens"] == "" {
			t.Errorf("%d tokens: got %v, want an error on field tokens", n, err)
		}
	}
	b.wantNothingIssued(t)
}

func TestIssueTokens_AProjectChangedMeanwhileIssuesNone(t *testing.T) {
	t.Parallel()
	forEachIssueRace(t, func(b bundle) error {
		_, err := b.st.IssueTokens(b.ctx, batchRequests(20))
		return err
	})
}

func TestIssueTokensOnce_ARetryGetsTheFirstAnswerAndIssuesNothingMore(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.createProject(t, 1001)
	_, key, err := b.st.CreateAPIKey(b.ctx, APIKeyInput{Name: "svc", AppIDs: []uint32{1001}, Scopes: []string{ScopeIssue}}, testActor, Origin{})
	if err != nil {
		t.Fatal(err)
	}
	idem := Idempotency{APIKeyID: key.ID, Key: "class-42", Request: []byte("batch of 5"), Actor: testActor, AppID: 1001}
	answer := func(issued []IssuedToken) (Answer, error) {
		body := ""
		for _, it := range issued {
			body += it.Token + "\n"
		}
		return Answer{Status: 201, Body: []byte(body)}, nil
	}
	first, replayed, err := b.st.IssueTokensOnce(b.ctx, batchRequests(5), idem, answer)
	if err != nil || replayed {
		t.Fatalf("first: got replayed %v, %v", replayed, err)
	}
	again, replayed, err := b.st.IssueTokensOnce(b.ctx, batchRequests(5), idem, answer)
	if err != nil || !replayed || !reflect.DeepEqual(again, first) {
		t.Fatalf("retry: got replayed %v, %v, same answer %v; want the first answer replayed", replayed, err, reflect.DeepEqual(again, first))
	}
	if n := b.queryInt(t, `SELECT count(*) FROM issued_tokens`); n != 5 {
		t.Errorf("token records: got %d, want 5", n)
	}
}
