package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/zegocloud-console/console/internal/store"
)

const secretsUsage = `Usage: console secrets <subcommand> [flags]

Subcommands:
  rekey   re-encrypt every stored ServerSecret under the current master key

To rotate the master key: put the new key in CONSOLE_MASTER_KEY and the old one
(or several, comma-separated) in CONSOLE_MASTER_KEY_OLD, run 'console secrets
rekey', then restart the servers with the new key; CONSOLE_MASTER_KEY_OLD can
be dropped once rekey reports 0.`

func runSecrets(ctx context.Context, e env, args []string) error {
	return dispatch(ctx, e, args, "secrets", secretsUsage, command{name: "rekey", run: runSecretsRekey})
}

func runSecretsRekey(ctx context.Context, e env, args []string) error {
	fs := flag.NewFlagSet("console secrets rekey", flag.ContinueOnError)
	positional, set, err := parseFlags(e, fs, args, "Usage: console secrets rekey\n\n"+
		"Re-encrypts under CONSOLE_MASTER_KEY every ServerSecret sealed under a key of CONSOLE_MASTER_KEY_OLD, in one transaction.")
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
	return nil
}
