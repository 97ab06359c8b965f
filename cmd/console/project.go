package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/token04"
	"github.com/zegocloud-console/console/internal/web"
)

// cliActor is who the audit trail says acted when a change comes from the
// command line.
var cliActor = store.Actor{Type: store.ActorCLI, Name: "cli"}

const projectUsage = `Usage: console project <subcommand> [flags]

Manages ZEGO projects in the database in DATABASE_URL, through the same audited
store operations as the web console. Subcommands:
  create   add a project and its ServerSecret (read from a file, never a flag)
  list     list the projects (never their secrets)

Run 'console project <subcommand> --help' for its flags.`

func runProject(ctx context.Context, e env, args []string) error {
	return dispatch(ctx, e, args, "project", projectUsage,
		command{name: "create", run: runProjectCreate}, command{name: "list", run: runProjectList})
}

func runProjectCreate(ctx context.Context, e env, args []string) error {
	fs := flag.NewFlagSet("console project create", flag.ContinueOnError)
	name := fs.String("name", "", "the project's `name` in the console (required)")
	var appID uint32
	fs.Func("app-id", "its ZEGO `AppID` (required)", appIDFlag(&appID))
	secretFile := fs.String("secret-file", "", "`file` holding the 32-character ServerSecret, or - for stdin (required)")
	environment := fs.String("env", "test", "environment `label`: test, prod, …")
	defaultTTL := fs.String("default-ttl", "1h", "`lifetime` of tokens issued without one: whole seconds (3600) or a duration such as 90m, 1h or 7d")
	maxTTL := fs.String("max-ttl", "24h", "the longest `lifetime` a token may have")
	noPublish := fs.Bool("no-publish", false, "never grant the publish privilege")
	positional, set, err := parseFlags(e, fs, args, "Usage: console project create --name N --app-id N --secret-file F "+
		"[--env test|prod] [--default-ttl 1h] [--max-ttl 24h] [--no-publish]")
	if err != nil || set["help"] {
		return err
	}
	if len(positional) > 0 {
		return usageError("project create: unexpected argument %q", positional[0])
	}
	if *name == "" || appID == 0 || *secretFile == "" {
		return usageError("project create: --name, --app-id and --secret-file are required")
	}
	in := store.ProjectInput{Name: *name, AppID: appID, Environment: *environment, PublishAllowed: !*noPublish}
	if in.DefaultTTL, err = token04.ParseLifetime(*defaultTTL); err != nil {
		return usageError("project create: --default-ttl %q %v", *defaultTTL, err)
	}
	if in.MaxTTL, err = token04.ParseLifetime(*maxTTL); err != nil {
		return usageError("project create: --max-ttl %q %v", *maxTTL, err)
	}
	secret, err := readSecretFile(e, *secretFile)
	if err != nil {
		return usageError("project create: --secret-file: %v", err)
	}
	defer clear(secret)

	if err := cliMay(web.ActProjectManage); err != nil {
		return err
	}
	st, _, err := openStore(ctx, e)
	if err != nil {
		return err
	}
	defer st.Close()
	p, err := st.CreateProject(ctx, in, secret, cliActor, store.Origin{})
	if err != nil {
		return storeError("project create", err)
	}
	fmt.Fprintf(e.stdout, "created project %q (AppID %d, %s): ServerSecret stored encrypted as version %d\n",
		p.Name, p.AppID, p.Environment, p.SecretVersion)
	return nil
}

func runProjectList(ctx context.Context, e env, args []string) error {
	fs := flag.NewFlagSet("console project list", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print a JSON array instead of a table")
	positional, set, err := parseFlags(e, fs, args, "Usage: console project list [--json]")
	if err != nil || set["help"] {
		return err
	}
	if len(positional) > 0 {
		return usageError("project list: unexpected argument %q", positional[0])
	}
	if err := cliMay(web.ActView); err != nil {
		return err
	}
	st, _, err := openStore(ctx, e)
	if err != nil {
		return err
	}
	defer st.Close()
	projects, err := st.ListProjects(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeProjectsJSON(e.stdout, projects)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "APP ID\tNAME\tENV\tDEFAULT TTL\tMAX TTL\tPUBLISH\tSTATUS\tSECRET")
	for _, p := range projects {
		status := "enabled"
		if p.Disabled {
			status = "disabled"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%t\t%s\tv%d\n", p.AppID, p.Name, p.Environment,
			token04.FormatLifetime(p.DefaultTTL()), token04.FormatLifetime(p.MaxTTL()), p.PublishAllowed, status, p.SecretVersion)
	}
	return tw.Flush()
}

// projectListItem is a project in `project list --json`: its policy, never a secret.
type projectListItem struct {
	AppID             int64  `json:"app_id"`
	Name              string `json:"name"`
	Environment       string `json:"environment"`
	DefaultTTLSeconds int32  `json:"default_ttl_seconds"`
	MaxTTLSeconds     int32  `json:"max_ttl_seconds"`
	PublishAllowed    bool   `json:"publish_allowed"`
	Disabled          bool   `json:"disabled"`
	SecretVersion     int32  `json:"secret_version"`
}

func writeProjectsJSON(w io.Writer, projects []store.Project) error {
	out := make([]projectListItem, 0, len(projects))
	for _, p := range projects {
		out = append(out, projectListItem{AppID: p.AppID, Name: p.Name, Environment: p.Environment,
			DefaultTTLSeconds: p.DefaultTTLSeconds, MaxTTLSeconds: p.MaxTTLSeconds, PublishAllowed: p.PublishAllowed,
			Disabled: p.Disabled, SecretVersion: p.SecretVersion})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// readSecretFile reads a ServerSecret from path ("-" for stdin), without
// its trailing newline.
func readSecretFile(e env, path string) ([]byte, error) {
	var data []byte
	var err error
	if path == "-" {
		data, err = io.ReadAll(io.LimitReader(e.stdin, 4096))
	} else {
		data, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, err
	}
	return []byte(strings.TrimRight(string(data), "\r\n")), nil
}

// storeError turns a store error into the command's error: invalid input is
// exit 2 with each field's reason, anything else exit 1.
func storeError(what string, err error) error {
	if fields := store.FieldErrors(err); fields != nil {
		return &exitError{code: 2, err: fmt.Errorf("%s: %w", what, err)}
	}
	if errors.Is(err, store.ErrNoMasterKey) {
		return fmt.Errorf("%s: %w (set CONSOLE_MASTER_KEY_OLD to the previous master keys)", what, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}
