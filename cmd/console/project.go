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
	"github.com/zegocloud-console/console/internal/zego"
)

// cliActor is who the audit trail says acted when a change comes from the
// command line.
var cliActor = store.Actor{Type: store.ActorCLI, Name: "cli"}

const projectUsage = `Usage: console project <subcommand> [flags]

Manages ZEGO projects in the database in DATABASE_URL, through the same audited
store operations as the web console. Subcommands:
  create   add a project and its ServerSecret (read from a file, never a flag)
  update   change a project's name, environment, policy or ZEGO settings
  list     list the projects (never their secrets)

Run 'console project <subcommand> --help' for its flags.`

func runProject(ctx context.Context, e env, args []string) error {
	return dispatch(ctx, e, args, "project", projectUsage, command{name: "create", run: runProjectCreate},
		command{name: "update", run: runProjectUpdate}, command{name: "list", run: runProjectList})
}

// projectFlags are the flags create and update share: the name,
// environment, issuing policy and ZEGO settings of a project.
type projectFlags struct {
	name, environment, defaultTTL, maxTTL *string
	noPublish, kickOnRevoke               *bool
	zegoServices, zegoRegion              *string
}

// registerProjectFlags adds the shared flags to fs, with the defaults of a
// new project.
func registerProjectFlags(fs *flag.FlagSet) projectFlags {
	return projectFlags{
		name:         fs.String("name", "", "the project's `name` in the console"),
		environment:  fs.String("env", "test", "environment `label`: test, prod, …"),
		defaultTTL:   fs.String("default-ttl", "1h", "`lifetime` of tokens issued without one: whole seconds (3600) or a duration such as 90m, 1h or 7d"),
		maxTTL:       fs.String("max-ttl", "24h", "the longest `lifetime` a token may have"),
		noPublish:    fs.Bool("no-publish", false, "never grant the publish privilege"),
		kickOnRevoke: fs.Bool("kick-on-revoke", false, "kick a revoked token's user out of its room at ZEGO (--kick-on-revoke=false turns it off)"),
		zegoServices: fs.String("zego-services", "rtc", "the ZEGO `products` the project uses: rtc, zim or rtc,zim"),
		zegoRegion:   fs.String("zego-region", "global", "where calls to ZEGO's server APIs go: `region` sha, hkg, fra, lax, bom, sgp or global"),
	}
}

// apply sets in from the flags: all of them for a new project, only those
// set on the command line for an update.
func (f projectFlags) apply(in *store.ProjectInput, set map[string]bool, all bool, what string) error {
	given := func(name string) bool { return all || set[name] }
	if given("name") {
		in.Name = *f.name
	}
	if given("env") {
		in.Environment = *f.environment
	}
	var err error
	if given("default-ttl") {
		if in.DefaultTTL, err = token04.ParseLifetime(*f.defaultTTL); err != nil {
			return usageError("%s: --default-ttl %q %v", what, *f.defaultTTL, err)
		}
	}
	if given("max-ttl") {
		if in.MaxTTL, err = token04.ParseLifetime(*f.maxTTL); err != nil {
			return usageError("%s: --max-ttl %q %v", what, *f.maxTTL, err)
		}
	}
	if given("no-publish") {
		in.PublishAllowed = !*f.noPublish
	}
	if given("kick-on-revoke") {
		in.KickOnRevoke = *f.kickOnRevoke
	}
	if given("zego-services") {
		services, bad := zego.ParseServices(*f.zegoServices)
		if bad != "" {
			return usageError("%s: --zego-services: unknown product %q; want rtc, zim or rtc,zim", what, bad)
		}
		in.ZegoServices = services
	}
	if given("zego-region") {
		in.ZegoRegion = *f.zegoRegion
	}
	return nil
}

func runProjectCreate(ctx context.Context, e env, args []string) error {
	fs := flag.NewFlagSet("console project create", flag.ContinueOnError)
	var appID uint32
	fs.Func("app-id", "its ZEGO `AppID` (required)", appIDFlag(&appID))
	secretFile := fs.String("secret-file", "", "`file` holding the 32-character ServerSecret, or - for stdin (required)")
	flags := registerProjectFlags(fs)
	positional, set, err := parseFlags(e, fs, args, "Usage: console project create --name N --app-id N --secret-file F "+
		"[--env test|prod] [--default-ttl 1h] [--max-ttl 24h] [--no-publish]\n"+
		"                              [--kick-on-revoke] [--zego-services rtc,zim] [--zego-region sha|hkg|fra|lax|bom|sgp|global]")
	if err != nil || set["help"] {
		return err
	}
	if len(positional) > 0 {
		return usageError("project create: unexpected argument %q", positional[0])
	}
	if *flags.name == "" || appID == 0 || *secretFile == "" {
		return usageError("project create: --name, --app-id and --secret-file are required")
	}
	in := store.ProjectInput{AppID: appID}
	if err := flags.apply(&in, set, true, "project create"); err != nil {
		return err
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
	fmt.Fprintf(e.stdout, "created project %q (AppID %d, %s): ServerSecret stored encrypted as version %d; kick on revoke %s\n",
		p.Name, p.AppID, p.Environment, p.SecretVersion, kickSummary(p))
	return nil
}

// runProjectUpdate changes what its flags name of a project and keeps the
// rest; its AppID and secret are not changed here.
func runProjectUpdate(ctx context.Context, e env, args []string) error {
	fs := flag.NewFlagSet("console project update", flag.ContinueOnError)
	var appID uint32
	fs.Func("app-id", "the ZEGO `AppID` of the project to change (required)", appIDFlag(&appID))
	flags := registerProjectFlags(fs)
	publish := fs.Bool("publish", false, "allow the publish privilege again")
	positional, set, err := parseFlags(e, fs, args, "Usage: console project update --app-id N [--name N] [--env test|prod] "+
		"[--default-ttl 1h] [--max-ttl 24h] [--publish | --no-publish]\n"+
		"                              [--kick-on-revoke[=false]] [--zego-services rtc,zim] [--zego-region sha|hkg|fra|lax|bom|sgp|global]\n\n"+
		"Only the flags given change; the others keep their values.")
	if err != nil || set["help"] {
		return err
	}
	if len(positional) > 0 {
		return usageError("project update: unexpected argument %q", positional[0])
	}
	if appID == 0 {
		return usageError("project update: --app-id is required")
	}
	if set["publish"] && set["no-publish"] {
		return usageError("project update: --publish and --no-publish contradict each other")
	}
	st, _, err := openStore(ctx, e)
	if err != nil {
		return err
	}
	defer st.Close()
	p, err := st.ProjectByAppID(ctx, appID)
	if err != nil {
		return storeError("project update", err)
	}
	in := store.ProjectInput{Name: p.Name, Environment: p.Environment, DefaultTTL: p.DefaultTTL(), MaxTTL: p.MaxTTL(),
		PublishAllowed: p.PublishAllowed, KickOnRevoke: p.KickOnRevoke, ZegoServices: p.ZegoServices, ZegoRegion: p.ZegoRegion}
	if err := flags.apply(&in, set, false, "project update"); err != nil {
		return err
	}
	if set["publish"] {
		in.PublishAllowed = *publish
	}
	if p, err = st.UpdateProject(ctx, appID, in, cliActor, store.Origin{}); err != nil {
		return storeError("project update", err)
	}
	fmt.Fprintf(e.stdout, "updated project %q (AppID %d, %s): kick on revoke %s\n", p.Name, p.AppID, p.Environment, kickSummary(p))
	return nil
}

// kickSummary says in a few words what revoking a token does at ZEGO.
func kickSummary(p store.Project) string {
	if !p.KickOnRevoke {
		return "off"
	}
	return "on (" + strings.Join(p.ZegoServices, ", ") + " via " + p.ZegoRegion + ")"
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
	fmt.Fprintln(tw, "APP ID\tNAME\tENV\tDEFAULT TTL\tMAX TTL\tPUBLISH\tKICK ON REVOKE\tSTATUS\tSECRET")
	for _, p := range projects {
		status := "enabled"
		if p.Disabled {
			status = "disabled"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%t\t%s\t%s\tv%d\n", p.AppID, p.Name, p.Environment,
			token04.FormatLifetime(p.DefaultTTL()), token04.FormatLifetime(p.MaxTTL()), p.PublishAllowed, kickSummary(p), status, p.SecretVersion)
	}
	return tw.Flush()
}

// projectListItem is a project in `project list --json`: its policy, never a secret.
type projectListItem struct {
	AppID             int64    `json:"app_id"`
	Name              string   `json:"name"`
	Environment       string   `json:"environment"`
	DefaultTTLSeconds int32    `json:"default_ttl_seconds"`
	MaxTTLSeconds     int32    `json:"max_ttl_seconds"`
	PublishAllowed    bool     `json:"publish_allowed"`
	Disabled          bool     `json:"disabled"`
	SecretVersion     int32    `json:"secret_version"`
	KickOnRevoke      bool     `json:"kick_on_revoke"`
	ZegoServices      []string `json:"zego_services"`
	ZegoRegion        string   `json:"zego_region"`
}

func writeProjectsJSON(w io.Writer, projects []store.Project) error {
	out := make([]projectListItem, 0, len(projects))
	for _, p := range projects {
		out = append(out, projectListItem{AppID: p.AppID, Name: p.Name, Environment: p.Environment,
			DefaultTTLSeconds: p.DefaultTTLSeconds, MaxTTLSeconds: p.MaxTTLSeconds, PublishAllowed: p.PublishAllowed,
			Disabled: p.Disabled, SecretVersion: p.SecretVersion, KickOnRevoke: p.KickOnRevoke, ZegoServices: p.ZegoServices,
			ZegoRegion: p.ZegoRegion})
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
