package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/token04"
	"github.com/zegocloud-console/console/internal/web"
)

const apikeyUsage = `Usage: console apikey <subcommand> [flags]

Manages the API keys of backend services in the database in DATABASE_URL,
audited like the web console's API keys page. Subcommands:
  create   make a key scoped to projects and actions; prints the key alone on stdout, once
  list     list the keys (their prefixes, never the keys)
  revoke   revoke a key by its prefix

Run 'console apikey <subcommand> --help' for its flags.`

func runAPIKey(ctx context.Context, e env, args []string) error {
	return dispatch(ctx, e, args, "apikey", apikeyUsage, command{name: "create", run: runAPIKeyCreate},
		command{name: "list", run: runAPIKeyList}, command{name: "revoke", run: runAPIKeyRevoke})
}

func runAPIKeyCreate(ctx context.Context, e env, args []string) error {
	fs := flag.NewFlagSet("console apikey create", flag.ContinueOnError)
	name := fs.String("name", "", "what the key is for, shown in the audit trail (required)")
	var in store.APIKeyInput
	fs.Func("project", "`AppID` the key may use; repeat for several (required)", func(s string) error {
		id, err := token04.ParseAppID(s)
		if err != nil {
			return err
		}
		in.AppIDs = append(in.AppIDs, id)
		return nil
	})
	fs.Func("scope", "comma-separated `actions`: issue, revoke, introspect, audit:read, revocations:read, sinks:admin; may repeat (required)", func(s string) error {
		for _, sc := range strings.Split(s, ",") {
			if sc = strings.TrimSpace(sc); sc != "" {
				in.Scopes = append(in.Scopes, sc)
			}
		}
		return nil
	})
	expires := fs.String("expires", "90d", "`lifetime` (90d, 12h, any duration up to 3650d) or never")
	positional, set, err := parseFlags(e, fs, args, "Usage: console apikey create --name N --project APPID [--project APPID…] "+
		"--scope issue,revoke,introspect,audit:read,revocations:read [--expires 90d|never]\n\nThe key is printed alone on stdout, once: store it now.")
	if err != nil || set["help"] {
		return err
	}
	if len(positional) > 0 {
		return usageError("apikey create: unexpected argument %q", positional[0])
	}
	if *name == "" || len(in.AppIDs) == 0 || len(in.Scopes) == 0 {
		return usageError("apikey create: --name, --project and --scope are required")
	}
	in.Name = *name
	if *expires != "never" {
		d, err := token04.ParseLifetime(*expires)
		if err != nil {
			return usageError("apikey create: --expires %q %v, or never", *expires, err)
		}
		at := time.Now().Add(d)
		in.ExpiresAt = &at
	}
	if err := cliMay(web.ActAccessManage); err != nil {
		return err
	}
	st, _, err := openStore(ctx, e)
	if err != nil {
		return err
	}
	defer st.Close()
	raw, key, err := st.CreateAPIKey(ctx, in, cliActor, store.Origin{})
	if err != nil {
		return storeError("apikey create", err)
	}
	fmt.Fprintln(e.stdout, raw)
	fmt.Fprintf(e.stderr, "created API key %s (%s) for projects %s with scopes %s, %s. It is shown only this once.\n",
		key.Prefix, key.Name, joinInts(key.AppIDs), strings.Join(key.Scopes, ","), expiry(key.ExpiresAt))
	return nil
}

func runAPIKeyList(ctx context.Context, e env, args []string) error {
	fs := flag.NewFlagSet("console apikey list", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print a JSON array instead of a table")
	positional, set, err := parseFlags(e, fs, args, "Usage: console apikey list [--json]")
	if err != nil || set["help"] {
		return err
	}
	if len(positional) > 0 {
		return usageError("apikey list: unexpected argument %q", positional[0])
	}
	if err := cliMay(web.ActAccessReview); err != nil {
		return err
	}
	st, _, err := openStore(ctx, e)
	if err != nil {
		return err
	}
	defer st.Close()
	keys, err := st.ListAPIKeys(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		out := make([]apiKeyListItem, 0, len(keys))
		for _, k := range keys {
			out = append(out, apiKeyListItem{Prefix: k.Prefix, Name: k.Name, AppIDs: k.AppIDs, Scopes: k.Scopes,
				ExpiresAt: k.ExpiresAt, CreatedAt: k.CreatedAt, CreatedBy: k.CreatedBy, RevokedAt: k.RevokedAt, LastUsedAt: k.LastUsedAt})
		}
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PREFIX\tNAME\tPROJECTS\tSCOPES\tSTATUS\tEXPIRES\tLAST USED")
	for _, k := range keys {
		status := "active"
		switch {
		case k.RevokedAt != nil:
			status = "revoked"
		case k.ExpiresAt != nil && !time.Now().Before(*k.ExpiresAt):
			status = "expired"
		}
		lastUsed := "never"
		if k.LastUsedAt != nil {
			lastUsed = k.LastUsedAt.UTC().Format(time.RFC3339)
		}
		expires := "never"
		if k.ExpiresAt != nil {
			expires = k.ExpiresAt.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k.Prefix, k.Name, joinInts(k.AppIDs), strings.Join(k.Scopes, ","),
			status, expires, lastUsed)
	}
	return tw.Flush()
}

// apiKeyListItem is a key in `apikey list --json`: never its secret.
type apiKeyListItem struct {
	Prefix     string     `json:"prefix"`
	Name       string     `json:"name"`
	AppIDs     []int64    `json:"app_ids"`
	Scopes     []string   `json:"scopes"`
	ExpiresAt  *time.Time `json:"expires_at"`
	CreatedAt  time.Time  `json:"created_at"`
	CreatedBy  string     `json:"created_by"`
	RevokedAt  *time.Time `json:"revoked_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
}

func runAPIKeyRevoke(ctx context.Context, e env, args []string) error {
	fs := flag.NewFlagSet("console apikey revoke", flag.ContinueOnError)
	positional, set, err := parseFlags(e, fs, args, "Usage: console apikey revoke PREFIX\n\nPREFIX is the key's first 11 characters (zc_xxxxxxxx), as 'apikey list' shows.")
	if err != nil || set["help"] {
		return err
	}
	if len(positional) != 1 {
		return usageError("apikey revoke: want exactly one PREFIX, got %d arguments", len(positional))
	}
	prefix := positional[0]
	if !strings.HasPrefix(prefix, "zc_") || len(prefix) != len("zc_xxxxxxxx") {
		return usageError("apikey revoke: %.11q… is not a key prefix: pass its first 11 characters (zc_xxxxxxxx), as 'apikey list' shows", prefix)
	}
	if err := cliMay(web.ActAccessManage); err != nil {
		return err
	}
	st, _, err := openStore(ctx, e)
	if err != nil {
		return err
	}
	defer st.Close()
	key, err := st.RevokeAPIKey(ctx, prefix, cliActor, store.Origin{})
	if errors.Is(err, store.ErrAPIKeyNotFound) {
		return fmt.Errorf("apikey revoke: no API key with prefix %s", prefix)
	}
	if err != nil {
		return storeError("apikey revoke", err)
	}
	fmt.Fprintf(e.stdout, "revoked API key %s (%s)\n", key.Prefix, key.Name)
	return nil
}

func joinInts(ids []int64) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = strconv.FormatInt(id, 10)
	}
	return strings.Join(parts, ",")
}

func expiry(at *time.Time) string {
	if at == nil {
		return "never expires"
	}
	return "expires " + at.UTC().Format(time.RFC3339)
}
