package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/zegocloud-console/console/internal/store"
)

const operatorUsage = `Usage: console operator <subcommand>

Helps operators of the web console, in the database in DATABASE_URL, audited
as the CLI. Subcommands:
  unlock     clear an operator's failed sign-ins so that they may sign in at once
  reset-mfa  remove every second factor of an operator who lost them all

Run 'console operator <subcommand> --help' for its flags.`

func runOperator(ctx context.Context, e env, args []string) error {
	return dispatch(ctx, e, args, "operator", operatorUsage, command{name: "unlock", run: runOperatorUnlock},
		command{name: "reset-mfa", run: runOperatorResetMFA})
}

func runOperatorResetMFA(ctx context.Context, e env, args []string) error {
	fs := flag.NewFlagSet("console operator reset-mfa", flag.ContinueOnError)
	positional, set, err := parseFlags(e, fs, args, "Usage: console operator reset-mfa NAME\n\n"+
		"Removes the authenticator app, passkeys and recovery codes of the operator NAME and ends their sessions\n"+
		"(audited as mfa.reset): for someone who lost every second factor. Make sure it is them first.")
	if err != nil || set["help"] {
		return err
	}
	if len(positional) != 1 {
		return usageError("operator reset-mfa: want exactly one NAME, got %d arguments", len(positional))
	}
	name := positional[0]
	st, _, err := openStore(ctx, e)
	if err != nil {
		return err
	}
	defer st.Close()
	removed, err := st.ResetSecondFactors(ctx, name, cliActor, store.Origin{})
	if errors.Is(err, store.ErrOperatorNotFound) {
		return fmt.Errorf("operator reset-mfa: no operator named %s", name)
	}
	if err != nil {
		return storeError("operator reset-mfa", err)
	}
	fmt.Fprintf(e.stdout, "reset operator %s: removed %d second factors and their recovery codes; their sessions ended\n", name, removed)
	return nil
}

func runOperatorUnlock(ctx context.Context, e env, args []string) error {
	fs := flag.NewFlagSet("console operator unlock", flag.ContinueOnError)
	positional, set, err := parseFlags(e, fs, args, "Usage: console operator unlock NAME\n\n"+
		"Clears the failed sign-ins of the operator NAME from every address (audited as operator.unlock):\n"+
		"use it when guesses by someone else keep the operator waiting.")
	if err != nil || set["help"] {
		return err
	}
	if len(positional) != 1 {
		return usageError("operator unlock: want exactly one NAME, got %d arguments", len(positional))
	}
	name := positional[0]
	st, _, err := openStore(ctx, e)
	if err != nil {
		return err
	}
	defer st.Close()
	cleared, err := st.UnlockOperator(ctx, name, cliActor, store.Origin{})
	if errors.Is(err, store.ErrOperatorNotFound) {
		return fmt.Errorf("operator unlock: no operator named %s", name)
	}
	if err != nil {
		return storeError("operator unlock", err)
	}
	fmt.Fprintf(e.stdout, "unlocked operator %s: cleared %d failed sign-ins\n", name, cleared)
	return nil
}
