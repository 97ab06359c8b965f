package store

import (
	"bytes"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

// withMACKeys opens another store on b's database as the runtime role with
// the given audit MAC keys, signing key first.
func (b bundle) withMACKeys(t *testing.T, keys ...[]byte) *Store {
	t.Helper()
	st := b.open(t)
	st.SetAuditMACKeys(keys)
	return st
}

func TestResignAuditChain_SignsAgainWhatTheOldKeySignedSoThatItCanBeDropped(t *testing.T) {
	t.Parallel()
	b := setup(t)
	oldKey, newKey := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	before := b.withMACKeys(t, oldKey)
	b.audit(t, 5)
	if _, err := before.SealPending(b.ctx, 100); err != nil {
		t.Fatal(err)
	}
	rotating := b.withMACKeys(t, newKey, oldKey)
	got, err := rotating.ResignAuditChain(b.ctx, Actor{Type: ActorCLI, Name: "cli"}, Origin{})
	if err != nil || !got.Head || got.Checkpoints != 1 {
		t.Fatalf("re-sign: got %+v, %v; want the head and 1 checkpoint", got, err)
	}
	if again, err := rotating.ResignAuditChain(b.ctx, Actor{Type: ActorCLI, Name: "cli"}, Origin{}); err != nil || again.Head || again.Checkpoints != 0 {
		t.Fatalf("re-sign again: got %+v, %v; want nothing left", again, err)
	}
	after := b.withMACKeys(t, newKey)
	b.audit(t, 2)
	if n, err := after.SealPending(b.ctx, 100); err != nil || n != 3 { // the two and audit.resign
		t.Fatalf("seal with the new key alone: got %d, %v; want 3", n, err)
	}
	if r, err := after.VerifyAuditChain(b.ctx); err != nil || !r.OK || r.Events != 8 {
		t.Fatalf("verify with the new key alone: got %+v, %v; want 8 events intact", r, err)
	}
}

func TestResignAuditChain_RefusesABrokenChainAndChangesNothing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	oldKey, newKey := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	b.audit(t, 3)
	if _, err := b.withMACKeys(t, oldKey).SealPending(b.ctx, 100); err != nil {
		t.Fatal(err)
	}
	macs := func() []byte {
		var all []byte
		if err := b.st.Pool().QueryRow(b.ctx, `SELECT string_agg(mac, '' ORDER BY kind, chain_seq)
			FROM (SELECT chain_seq, mac, kind FROM audit_checkpoints UNION ALL SELECT chain_seq, mac, 'head' FROM audit_chain_head) p`).Scan(&all); err != nil {
			t.Fatal(err)
		}
		return all
	}
	signed := macs()
	mustExec(t, b.ctx, b.superuser(t), `UPDATE audit_events SET actor_name = 'mallory' WHERE id = `+eventAt(2))
	_, err := b.withMACKeys(t, newKey, oldKey).ResignAuditChain(b.ctx, Actor{Type: ActorCLI, Name: "cli"}, Origin{})
	if !errors.Is(err, ErrAuditChainBroken) {
		t.Fatalf("re-sign a tampered chain: got %v, want ErrAuditChainBroken", err)
	}
	if !bytes.Equal(macs(), signed) {
		t.Fatal("the MACs changed although re-signing was refused")
	}
	if r, err := b.withMACKeys(t, oldKey).VerifyAuditChain(b.ctx); err != nil || r.BreakKind != BreakHash || r.BreakSeq != 2 {
		t.Fatalf("verify after the refusal: got %+v, %v; want the same break at seq 2", r, err)
	}
}

func TestAuditResign_ChangesOnlyMACsThatTheCallerNamesExactly(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.audit(t, 3)
	b.sealAll(t)
	var seq int64
	var hash, mac []byte
	if err := b.st.Pool().QueryRow(b.ctx, `SELECT chain_seq, hash, mac FROM audit_checkpoints`).Scan(&seq, &hash, &mac); err != nil {
		t.Fatal(err)
	}
	forged := bytes.Repeat([]byte{0xcd}, 32)
	cases := []struct {
		name     string
		seqs     []int64
		old, new [][]byte
		headSeq  *int64
		wantCode string
	}{
		{"a checkpoint with a MAC it does not have", []int64{seq}, [][]byte{forged}, [][]byte{forged}, nil, "22023"},
		{"a checkpoint that does not exist", []int64{seq + 7}, [][]byte{mac}, [][]byte{forged}, nil, "22023"},
		{"the same checkpoint twice", []int64{seq, seq}, [][]byte{mac, mac}, [][]byte{forged, forged}, nil, "22023"},
		{"fewer MACs than checkpoints", []int64{seq}, [][]byte{mac}, nil, nil, "22023"},
		{"a short MAC", []int64{seq}, [][]byte{mac}, [][]byte{forged[:4]}, nil, "22023"},
		{"the head without its MACs", []int64{}, [][]byte{}, [][]byte{}, &seq, "22023"},
	}
	for _, c := range cases {
		_, err := b.st.Pool().Exec(b.ctx, `SELECT audit_resign($1, $2, $3, $4, NULL, NULL)`, c.seqs, c.old, c.new, c.headSeq)
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != c.wantCode {
			t.Errorf("%s: got %v, want SQLSTATE %s", c.name, err, c.wantCode)
		}
	}
	// Nor may the runtime role write the tables itself.
	if _, err := b.st.Pool().Exec(b.ctx, `UPDATE audit_checkpoints SET hash = $1`, forged); !errors.Is(permissionDenied(err), ErrPermissionDenied) {
		t.Errorf("UPDATE audit_checkpoints as the runtime role: got %v, want permission denied", err)
	}
	b.mustVerifyOK(t)
}
