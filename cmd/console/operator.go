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

func runOperatorUnlock(ctx context.Context, e env, args []string) error {
	return operatorCommand(ctx, e, args, "unlock", "Clears the failed sign-ins of the operator NAME from every address (audited as operator.unlock):\n"+
		"use it when guesses by someone else keep the operator waiting.",
		func(st *store.Store, name string) (string, error) {
			cleared, err := st.UnlockOperator(ctx, name, cliActor, store.Origin{})
			return fmt.Sprintf("unlocked operator %s: cleared %d failed sign-ins", name, cleared), err
		})
}

func runOperatorResetMFA(ctx context.Context, e env, args []string) error {
	return operatorCommand(ctx, e, args, "reset-mfa", "Removes the authenticator app, passkeys and recovery codes of the operator NAME and ends their sessions\n"+
		"(audited as mfa.reset): for someone who lost every second factor. Make sure it is them first.",
		func(st *store.Store, name string) (string, error) {
			removed, err := st.ResetSecondFactors(ctx, name, cliActor, store.Origin{})
			return fmt.Sprintf("reset operator %s: removed %d second factors and their recovery codes; their sessions ended", name, removed), err
		})
}

// operatorCommand runs the subcommand sub, which does act to the one
// operator NAME it is given and says done.
func operatorCommand(ctx context.Context, e env, args []string, sub, help string, act func(st *store.Store, name string) (string, error)) error {
	fs := flag.NewFlagSet("console operator "+sub, flag.ContinueOnError)
	positional, set, err := parseFlags(e, fs, args, "Usage: console operator "+sub+" NAME\n\n"+help)
	if err != nil || set["help"] {
		return err
	}
	if len(positional) != 1 {
		return usageError("operator %s: want exactly one NAME, got %d arguments", sub, len(positional))
	}
	name := positional[0]
	st, _, err := openStore(ctx, e)
	if err != nil {
		return err
	}
	defer st.Close()
	done, err := act(st, name)
	if errors.Is(err, store.ErrOperatorNotFound) {
		return fmt.Errorf("operator %s: no operator named %s", sub, name)
	}
	if err != nil {
		return storeError("operator "+sub, err)
	}
	fmt.Fprintln(e.stdout, done)
	return nil
}
