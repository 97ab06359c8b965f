package main

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"regexp"
	"strings"
	"testing"
)

// rekeyStep is one rotation: from the old key to the new one.
type rekeyStep struct{ old, current string }

// rekeyResigned matches what secrets rekey says of the audit chain.
var rekeyResigned = regexp.MustCompile(`re-signed the chain head and (\d+) checkpoints?`)

// rotateAndCheckChain runs one documented rotation through the CLI: rekey
// with both keys, then, with the old key dropped, verify, add events, seal
// them and verify again. keyVar names the key that rotates; base is the
// rest of the environment.
func rotateAndCheckChain(t *testing.T, base map[string]string, keyVar string, step rekeyStep, appID string) {
	t.Helper()
	with := func(extra map[string]string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	rotating := with(map[string]string{keyVar: step.current, keyVar + "_OLD": step.old})
	r := runAdminCLI(t, "", rotating, "secrets", "rekey")
	if r.code != 0 || !rekeyResigned.MatchString(r.stdout) {
		t.Fatalf("rekey to the new key: got exit %d, stdout %q, stderr %q; want 0 and what was re-signed", r.code, r.stdout, r.stderr)
	}
	dropped := with(map[string]string{keyVar: step.current})
	if r := runAdminCLI(t, "", dropped, "audit", "verify"); r.code != 0 {
		t.Fatalf("verify with the old key dropped: got exit %d, stdout %q, stderr %q; want 0", r.code, r.stdout, r.stderr)
	}
	if r := runAdminCLI(t, "", dropped, "project", "create", "--name", "P"+appID, "--app-id", appID,
		"--secret-file", base["secret-file"]); r.code != 0 {
		t.Fatalf("create project %s after the rotation: exit %d (%s)", appID, r.code, r.stderr)
	}
	if r := runAdminCLI(t, "", dropped, "audit", "seal"); r.code != 0 || !strings.HasPrefix(r.stdout, "sealed ") || strings.HasPrefix(r.stdout, "sealed 0 ") {
		t.Fatalf("seal new events after the rotation: got exit %d, stdout %q, stderr %q; want them sealed", r.code, r.stdout, r.stderr)
	}
	if r := runAdminCLI(t, "", dropped, "audit", "verify"); r.code != 0 || r.stdout == "" || strings.Contains(r.stdout, "await their seal") {
		t.Fatalf("verify after new events: got exit %d, stdout %q, stderr %q; want 0 with every event sealed", r.code, r.stdout, r.stderr)
	}
}

func TestSecretsRekey_RotatingTheMasterKeyTwiceKeepsTheAuditChainVerifiable(t *testing.T) {
	t.Parallel()
	a := setupAdminCLI(t)
	a.project(t, "1001")
	if r := a.run(t, "", "audit", "seal"); r.code != 0 {
		t.Fatalf("seal under key A: exit %d (%s)", r.code, r.stderr)
	}
	base := map[string]string{"DATABASE_URL": a.environ["DATABASE_URL"], "secret-file": a.secretFile(t)}
	keyA, keyB, keyC := a.environ["CONSOLE_MASTER_KEY"], opsNewMasterKey(t), opsNewMasterKey(t)
	for i, step := range []rekeyStep{{keyA, keyB}, {keyB, keyC}} {
		rotateAndCheckChain(t, base, "CONSOLE_MASTER_KEY", step, fmt.Sprint(2002+i))
	}
}

func TestSecretsRekey_RotatingAnExplicitAuditKeyKeepsTheAuditChainVerifiable(t *testing.T) {
	t.Parallel()
	a := setupAdminCLI(t)
	auditX := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, 32))
	auditY := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{2}, 32))
	a.environ["CONSOLE_AUDIT_KEY"] = auditX
	a.project(t, "1001")
	if r := a.run(t, "", "audit", "seal"); r.code != 0 {
		t.Fatalf("seal under audit key X: exit %d (%s)", r.code, r.stderr)
	}
	base := map[string]string{"DATABASE_URL": a.environ["DATABASE_URL"], "CONSOLE_MASTER_KEY": a.environ["CONSOLE_MASTER_KEY"],
		"secret-file": a.secretFile(t)}
	rotateAndCheckChain(t, base, "CONSOLE_AUDIT_KEY", rekeyStep{auditX, auditY}, "2002")

	a.environ["CONSOLE_AUDIT_KEY_OLD"] = auditX + ",short"
	if r := a.run(t, "", "audit", "verify"); r.code != 2 || !strings.Contains(r.stderr, "CONSOLE_AUDIT_KEY_OLD") {
		t.Errorf("a bad old audit key: got exit %d, stderr %q; want 2 naming CONSOLE_AUDIT_KEY_OLD", r.code, r.stderr)
	}
}
