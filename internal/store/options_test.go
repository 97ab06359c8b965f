package store

import (
	"strings"
	"testing"
	"time"
)

func TestOpen_RefusesInvalidOptions(t *testing.T) {
	t.Parallel()
	const url = "postgres://127.0.0.1:1/unreachable" // options are checked before any connection
	for name, opt := range map[string]Option{
		"no argon2 pass":        WithPasswordParams(PasswordParams{Memory: 64, Time: 0, Threads: 1, SaltLen: 16, KeyLen: 32}),
		"too much memory":       WithPasswordParams(PasswordParams{Memory: 1<<21 + 1, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}),
		"short salt":            WithPasswordParams(PasswordParams{Memory: 64, Time: 1, Threads: 1, SaltLen: 4, KeyLen: 32}),
		"zero audit timeout":    WithAuditTextTimeout(0),
		"sub-millisecond audit": WithAuditTextTimeout(time.Microsecond),
	} {
		if st, err := Open(t.Context(), url, nil, opt); err == nil {
			st.Close()
			t.Errorf("%s: got a store, want an error", name)
		}
	}
}

func TestNew_PanicsOnAnInvalidOption(t *testing.T) {
	t.Parallel()
	defer func() {
		if recover() == nil {
			t.Fatal("got no panic, want one for a zero audit text timeout")
		}
	}()
	New(nil, nil, WithAuditTextTimeout(0))
}

func TestWithPasswordParams_HashesWithThem(t *testing.T) {
	t.Parallel()
	b := setup(t, WithPasswordParams(PasswordParams{Memory: 128, Time: 2, Threads: 2, SaltLen: 8, KeyLen: 16}))
	op := b.createOperator(t, "bob", RoleOperator, "bob's long password")
	var hash string
	if err := b.st.pool.QueryRow(b.ctx, `SELECT password_hash FROM operators WHERE id = $1`, op.ID).Scan(&hash); err != nil {
		t.Fatal(err)
	}
	if want := "$argon2id$v=19$m=128,t=2,p=2$"; !strings.HasPrefix(hash, want) {
		t.Fatalf("got hash %q, want prefix %q", hash, want)
	}
	if _, err := b.st.Authenticate(b.ctx, "bob", "bob's long password", testOrigin); err != nil {
		t.Fatalf("authenticate with the hash made: %v", err)
	}
}
