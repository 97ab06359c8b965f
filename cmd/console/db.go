package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/zegocloud-console/console/internal/store"
)

const dbUsage = `Usage: console db <subcommand>

Manages the database roles. Subcommands:
  grant ROLE   give ROLE exactly what 'console serve' needs (the runtime role)

Run 'console db grant --help' for details.`

const dbGrantUsage = `Usage: console db grant ROLE

Gives ROLE exactly the privileges 'console serve' needs and revokes any other
on the console's tables and functions: it may append to the audit trail and
read it, never change, delete or seal an event itself, and never change the
schema. Run it as the schema owner (CONSOLE_MIGRATE_DATABASE_URL, or
DATABASE_URL when that is unset) after 'console migrate'; running it again
changes nothing, and later migrations grant every role granted this way again.

When ROLE does not exist and the owner may create roles, it is created with
LOGIN and no password. Otherwise, or to give it a password, as a superuser or
a role with CREATEROLE:

    CREATE ROLE console_runtime LOGIN PASSWORD '…';   -- or, once it exists:
    ALTER ROLE console_runtime PASSWORD '…';          -- psql: \password console_runtime

Then point DATABASE_URL at it: postgres://console_runtime:…@host/console`

func runDB(ctx context.Context, e env, args []string) error {
	return dispatch(ctx, e, args, "db", dbUsage, command{name: "grant", run: runDBGrant})
}

func runDBGrant(ctx context.Context, e env, args []string) error {
	fs := flag.NewFlagSet("console db grant", flag.ContinueOnError)
	positional, set, err := parseFlags(e, fs, args, dbGrantUsage)
	if err != nil || set["help"] {
		return err
	}
	if len(positional) != 1 || positional[0] == "" {
		return usageError("db grant: want exactly one ROLE (for example console_runtime)")
	}
	role := positional[0]
	st, _, err := openOwnerStore(ctx, e, "console db grant", false)
	if err != nil {
		return err
	}
	defer st.Close()
	created, err := st.GrantRuntimeRole(ctx, role)
	if errors.Is(err, store.ErrRoleMissing) {
		return &exitError{code: 1, err: fmt.Errorf("%w: create it as a superuser (CREATE ROLE %s LOGIN PASSWORD '…'), then run this again", err, role)}
	}
	if err != nil {
		return err
	}
	if created {
		fmt.Fprintf(e.stdout, "created role %s (LOGIN, no password: set one with ALTER ROLE %s PASSWORD '…')\n", role, role)
	}
	fmt.Fprintf(e.stdout, "granted %s what console serve needs\n", role)
	return nil
}
