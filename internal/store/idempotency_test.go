package store

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// issueOnce issues for user under the Idempotency-Key k of API key apiKeyID.
func (b bundle) issueOnce(t *testing.T, st *Store, apiKeyID int64, k, user string) (Answer, bool, error) {
	t.Helper()
	idem := Idempotency{APIKeyID: apiKeyID, Key: k, Request: []byte("issue " + user), Actor: testActor}
	return st.IssueTokenOnce(b.ctx, IssueRequest{AppID: 5, UserID: user, Channel: ChannelAPI, Actor: testActor}, idem,
		func(it IssuedToken) (Answer, error) { return Answer{Status: 201, Body: []byte(it.Token)}, nil })
}

// apiKeyID makes an API key for project 5 and returns its id.
func (b bundle) apiKeyID(t *testing.T) int64 {
	t.Helper()
	_, k, err := b.st.CreateAPIKey(b.ctx, APIKeyInput{Name: "svc", AppIDs: []uint32{5}, Scopes: []string{ScopeIssue}}, testActor, Origin{})
	if err != nil {
		t.Fatal(err)
	}
	return k.ID
}

func TestIdempotentAnswers_AreBoundToTheirKeyAndMoveWithRekey(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.createProject(t, 5)
	id1, id2 := b.apiKeyID(t), b.apiKeyID(t)
	first, _, err := b.issueOnce(t, b.st, id1, "k1", "alice")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := b.issueOnce(t, b.st, id2, "k2", "bob"); err != nil {
		t.Fatal(err)
	}
	// Another key's sealed answer swapped into this row does not open.
	if _, err := b.owner.Pool().Exec(b.ctx, `UPDATE idempotency_keys SET sealed_body = (SELECT sealed_body FROM idempotency_keys WHERE api_key_id = $2)
		WHERE api_key_id = $1`, id1, id2); err != nil {
		t.Fatal(err)
	}
	if _, _, err := b.issueOnce(t, b.st, id1, "k1", "alice"); err == nil || !strings.Contains(err.Error(), "authentication failed") {
		t.Fatalf("replay of a swapped answer: got %v, want it refused", err)
	}
	if _, err := b.owner.Pool().Exec(b.ctx, `DELETE FROM idempotency_keys WHERE api_key_id = $1`, id1); err != nil {
		t.Fatal(err)
	}
	first, _, err = b.issueOnce(t, b.st, id1, "k1", "alice")
	if err != nil {
		t.Fatal(err)
	}

	if _, err := b.rekeyed(t).Rekey(b.ctx, testActor, Origin{}); err != nil {
		t.Fatal(err)
	}
	st3 := b.newKeyOnly(t)
	again, replayed, err := b.issueOnce(t, st3, id1, "k1", "alice")
	if err != nil || !replayed || !bytes.Equal(again.Body, first.Body) {
		t.Fatalf("replay under the new master key alone: got replayed %v, %v; want the first answer", replayed, err)
	}
	if _, _, err := b.issueOnce(t, st3, id1, "k1", "mallory"); !errors.Is(err, ErrIdempotencyMismatch) {
		t.Fatalf("same key, other request: got %v, want ErrIdempotencyMismatch", err)
	}
}

// newMasterKey is the master key the rekey tests move to.
var newMasterKey = []byte("0123456789abcdef0123456789ABCDEF")

// rekeyed opens a store whose keyring has newMasterKey first and the test
// key after it, as `console secrets rekey` runs during a rotation.
func (b bundle) rekeyed(t *testing.T) *Store {
	t.Helper()
	keys, err := NewKeyring(newMasterKey, bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	st, err := Open(b.ctx, b.db.RuntimeURL, keys)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	return st
}

// newKeyOnly opens a store that knows newMasterKey alone.
func (b bundle) newKeyOnly(t *testing.T) *Store {
	t.Helper()
	keys, _ := NewKeyring(newMasterKey)
	st, err := Open(b.ctx, b.db.RuntimeURL, keys)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	return st
}
