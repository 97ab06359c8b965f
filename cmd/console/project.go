package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/zegocloud-console/console/internal/store"
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
	appID := fs.Uint64("app-id", 0, "its ZEGO `AppID` (required)")
	secretFile := fs.String("secret-file", "", "`file` holding the 32-character ServerSecret, or - for stdin (required)")
	environment := fs.String("env", "test", "environment `label`: test, prod, …")
	defaultTTL := fs.String("default-ttl", "1h", "lifetime of tokens issued without one (`duration`: 90m, 1h, 3600)")
	maxTTL := fs.String("max-ttl", "24h", "the longest lifetime a token may have (`duration`)")
	noPublish := fs.Bool("no-publish", false, "never grant the publish privilege")
	positional, set, err := parseFlags(e, fs, args, "Usage: console project create --name N --app-id N --secret-file F "+
		"[--env test|prod] [--default-ttl 1h] [--max-ttl 24h] [--no-publish]")
	if err != nil || set["help"] {
		return err
	}
	if len(positional) > 0 {
		return usageError("project create: unexpected argument %q", positional[0])
	}
	if *name == "" || *appID == 0 || *secretFile == "" {
		return usageError("project create: --name, --app-id and --secret-file are required")
	}
	if *appID > math.MaxUint32 {
		return usageError("project create: --app-id %d does not fit a ZEGO AppID (at most %d)", *appID, uint32(math.MaxUint32))
	}
	in := store.ProjectInput{Name: *name, AppID: uint32(*appID), Environment: *environment, PublishAllowed: !*noPublish}
	if in.DefaultTTL, err = parseLifetime(*defaultTTL); err != nil {
		return usageError("project create: --default-ttl: %v", err)
	}
	if in.MaxTTL, err = parseLifetime(*maxTTL); err != nil {
		return usageError("project create: --max-ttl: %v", err)
	}
	secret, err := readSecretFile(e, *secretFile)
	if err != nil {
		return usageError("project create: --secret-file: %v", err)
	}
	defer clear(secret)

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
			shortDuration(p.DefaultTTL()), shortDuration(p.MaxTTL()), p.PublishAllowed, status, p.SecretVersion)
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

// parseLifetime reads a duration ("90m", "24h"), whole days ("30d") or whole
// seconds ("3600").
func parseLifetime(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n <= 0 || n > 3650 {
			return 0, fmt.Errorf("%q: want whole days from 1 to 3650, such as 90d", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	seconds, err := parseTTL(s)
	if err != nil {
		return 0, err
	}
	if seconds > math.MaxInt64/int64(time.Second) {
		return 0, fmt.Errorf("%q is too long", s)
	}
	return time.Duration(seconds) * time.Second, nil
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

// shortDuration writes 1h and 1h30m rather than 1h0m0s and 1h30m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}
