package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/zegocloud-console/console/internal/store"
)

const secretsUsage = `Usage: console secrets <subcommand> [flags]

Subcommands:
  rekey   re-encrypt every stored ServerSecret under the current master key,
          and sign the audit chain again under the current audit key

To rotate the master key: restart the servers with the new key in
CONSOLE_MASTER_KEY and the old one (or several, comma-separated) in
CONSOLE_MASTER_KEY_OLD, so that they read both and sign with the new one;
run 'console secrets rekey' with the same two variables; then drop
CONSOLE_MASTER_KEY_OLD and restart once rekey reports nothing left to
re-encrypt or re-sign. Without CONSOLE_AUDIT_KEY the audit chain's MAC key
derives from the master key, so rekey also signs the chain's head and
checkpoints again under the new one, after verifying the chain with every
key (it refuses a chain that does not verify: keep the old key then).
An explicit audit key rotates the same way: the new one in
CONSOLE_AUDIT_KEY, the old one in CONSOLE_AUDIT_KEY_OLD.`

func runSecrets(ctx context.Context, e env, args []string) error {
	return dispatch(ctx, e, args, "secrets", secretsUsage, command{name: "rekey", run: runSecretsRekey})
}

func runSecretsRekey(ctx context.Context, e env, args []string) error {
	fs := flag.NewFlagSet("console secrets rekey", flag.ContinueOnError)
	positional, set, err := parseFlags(e, fs, args, "Usage: console secrets rekey\n\n"+
		"Re-encrypts under CONSOLE_MASTER_KEY every ServerSecret sealed under a key of CONSOLE_MASTER_KEY_OLD, in one transaction,\n"+
		"then signs the audit chain's head and checkpoints again under the current audit key (see 'console secrets --help').")
	if err != nil || set["help"] {
		return err
	}
	if len(positional) > 0 {
		return usageError("secrets rekey: unexpected argument %q", positional[0])
	}
	st, _, err := openStore(ctx, e)
	if err != nil {
		return err
	}
	defer st.Close()
	n, err := st.Rekey(ctx, cliActor, store.Origin{})
	if err != nil {
		return storeError("secrets rekey", err)
	}
	fmt.Fprintf(e.stdout, "re-encrypted %d ServerSecrets under master key %s\n", n, st.Keys().CurrentID())
	resigned, err := st.ResignAuditChain(ctx, cliActor, store.Origin{UserAgent: "console secrets rekey"})
	if err != nil {
		return storeError("secrets rekey: the audit chain was not signed again, so keep the old keys configured", err)
	}
	fmt.Fprintln(e.stdout, describeResign(resigned))
	return nil
}

// describeResign says what ResignAuditChain signed again.
func describeResign(r store.AuditResign) string {
	checkpoints := fmt.Sprintf("%d checkpoints", r.Checkpoints)
	if r.Checkpoints == 1 {
		checkpoints = "1 checkpoint"
	}
	switch {
	case r.Head:
		return "re-signed the chain head and " + checkpoints + " under the current audit key"
	case r.Checkpoints > 0:
		return "re-signed " + checkpoints + " under the current audit key"
	}
	return "the audit chain was already signed under the current audit key"
}
