package main

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/zegocloud-console/console/internal/store"
)

func TestSecretsCLI_RekeyMovesEverySecretToTheNewMasterKey(t *testing.T) {
	t.Parallel()
	a := setupAdminCLI(t)
	a.project(t, "1001")
	a.project(t, "2002")
	if _, err := a.st.RotateSecret(t.Context(), 1001, []byte(strings.Repeat("z", 32)), cliActor, store.Origin{}); err != nil {
		t.Fatal(err)
	}
	oldKey := a.environ["CONSOLE_MASTER_KEY"]
	newRaw := bytes.Repeat([]byte{8}, 32)
	newKey := base64.StdEncoding.EncodeToString(newRaw)

	// The new key alone cannot read the old ciphertexts: rekey says what to do.
	onlyNew := map[string]string{"DATABASE_URL": a.environ["DATABASE_URL"], "CONSOLE_MASTER_KEY": newKey}
	r := runAdminCLI(t, "", onlyNew, "secrets", "rekey")
	if r.code != 1 || !strings.Contains(r.stderr, "CONSOLE_MASTER_KEY_OLD") {
		t.Fatalf("rekey without the old key: got exit %d, stderr %q; want 1 naming CONSOLE_MASTER_KEY_OLD", r.code, r.stderr)
	}

	rotating := map[string]string{"DATABASE_URL": a.environ["DATABASE_URL"], "CONSOLE_MASTER_KEY": newKey, "CONSOLE_MASTER_KEY_OLD": oldKey}
	r = runAdminCLI(t, "", rotating, "secrets", "rekey")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "re-encrypted 3 ServerSecrets under master key "+store.KeyID(newRaw)) {
		t.Fatalf("rekey: got exit %d, stdout %q, stderr %q; want 3 re-encrypted", r.code, r.stdout, r.stderr)
	}
	if r := runAdminCLI(t, "", rotating, "secrets", "rekey"); r.code != 0 || !strings.HasPrefix(r.stdout, "re-encrypted 0 ") {
		t.Fatalf("second rekey: got %q, want 0 re-encrypted", r.stdout)
	}

	// Now the new key alone serves: secrets open, tokens issue.
	keys, err := store.NewKeyring(newRaw)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(t.Context(), a.environ["DATABASE_URL"], keys)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	versions, err := st.SecretVersions(t.Context(), 1001)
	if err != nil || len(versions) != 2 || versions[0].Hint != "zzzz" {
		t.Fatalf("secret versions under the new key: got %+v (%v)", versions, err)
	}
	if _, err := st.IssueToken(t.Context(), store.IssueRequest{AppID: 2002, UserID: "u", Channel: store.ChannelCLI, Actor: cliActor}); err != nil {
		t.Fatalf("issue under the new key: %v", err)
	}
	var n int
	if err := st.Pool().QueryRow(t.Context(), `SELECT count(*) FROM audit_events WHERE action = 'secrets.rekey' AND actor_type = 'cli'`).Scan(&n); err != nil || n != 2 {
		t.Fatalf("got %d secrets.rekey events by the CLI (%v), want 2", n, err)
	}
}

func TestSecretsCLI_UsageErrors(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"secrets"}, {"secrets", "rotate"}, {"secrets", "rekey", "now"}} {
		if r := runAdminCLI(t, "", nil, args...); r.code != 2 {
			t.Errorf("%v: got exit %d, want 2", args, r.code)
		}
	}
	if r := runAdminCLI(t, "", map[string]string{}, "secrets", "rekey"); r.code != 2 || !strings.Contains(r.stderr, "DATABASE_URL") {
		t.Errorf("no configuration: got exit %d (%s), want 2 naming DATABASE_URL", r.code, r.stderr)
	}
}
