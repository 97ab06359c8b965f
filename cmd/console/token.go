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
	"time"

	"github.com/zegocloud-console/console/internal/token04"
)

const tokenUsage = `Usage: console token <subcommand> [flags]

Works offline: no database, nothing recorded. Subcommands:
  issue    make a Token04 and print it alone on stdout
  decode   verify a Token04 and print its claims as one JSON object

The ServerSecret comes from --secret-file, else --secret, else $ZEGO_SERVER_SECRET.
Run 'console token <subcommand> --help' for its flags.`

func runToken(ctx context.Context, e env, args []string) error {
	return dispatch(ctx, e, args, "token", tokenUsage,
		command{name: "issue", run: func(_ context.Context, e env, args []string) error { return runTokenIssue(e, args) }},
		command{name: "decode", run: func(_ context.Context, e env, args []string) error { return runTokenDecode(e, args) }})
}

func runTokenIssue(e env, args []string) error {
	fs := flag.NewFlagSet("console token issue", flag.ContinueOnError)
	var appID uint32
	fs.Func("app-id", "ZEGO `AppID` of the project (required)", appIDFlag(&appID))
	user := fs.String("user", "", "user `id` the token is for (required, at most 64 bytes)")
	ttl := fs.String("ttl", "1h", "`lifetime`: whole seconds (3600) or a duration such as 90s, 15m, 2h, 1h30m or 7d")
	modeName := fs.String("mode", "gcm", "`cipher`: gcm (recommended by ZEGO) or cbc (legacy)")
	payload := fs.String("payload", "", "raw payload `text`; excludes --room, --privilege and --stream")
	room := fs.String("room", "", "room `id` of a privilege payload (empty: any room)")
	privileges := fs.String("privilege", "login", "`list` of privileges in the room, comma-separated: login, publish (\"\" for none)")
	var streams []string
	fs.Func("stream", "stream `id` the token may publish; repeat for several (none: any stream)", func(s string) error {
		streams = append(streams, s)
		return nil
	})
	secret := addSecretFlags(fs)
	positional, set, err := parseFlags(e, fs, args,
		"Usage: console token issue --app-id N --user U [--ttl 1h] [--mode gcm|cbc] [--payload TEXT | --room R --privilege login,publish --stream S ...]")
	if err != nil || set["help"] {
		return err
	}
	if len(positional) > 0 {
		return usageError("token issue: unexpected argument %q", positional[0])
	}
	if appID == 0 || *user == "" {
		return usageError("token issue: --app-id (the project's ZEGO AppID) and --user are required")
	}
	lifetime, err := token04.ParseLifetime(*ttl)
	if err != nil {
		return usageError("token issue: --ttl %q %v", *ttl, err)
	}
	mode, err := token04.ParseMode(*modeName)
	if err != nil {
		return usageError("token issue: --mode: %v", err)
	}
	privilegeFlags := set["room"] || set["privilege"] || set["stream"]
	if set["payload"] && privilegeFlags {
		return usageError("token issue: --payload cannot be combined with --room, --privilege or --stream")
	}
	if privilegeFlags {
		p := token04.Privilege{RoomID: *room, StreamIDs: streams}
		if p.Login, p.Publish, err = parsePrivileges(*privileges); err != nil {
			return usageError("token issue: --privilege: %v", err)
		}
		*payload = p.Payload()
	}
	key, err := secret.load(e)
	if err != nil {
		return usageError("token issue: %v", err)
	}

	token, _, err := token04.Generate(token04.Params{AppID: appID, UserID: *user, Secret: key,
		EffectiveSeconds: int64(lifetime / time.Second), Payload: *payload, Mode: mode})
	if errors.Is(err, token04.ErrSecretLength) {
		return usageError("token issue: %v (from %s)", err, secret.source)
	}
	for _, invalid := range []error{token04.ErrUserIDTooLong, token04.ErrUserIDNotUTF8, token04.ErrPayloadNotUTF8,
		token04.ErrPayloadTooLong, token04.ErrEffectiveTime, token04.ErrAppIDZero, token04.ErrUserIDEmpty} {
		if errors.Is(err, invalid) {
			return usageError("token issue: %v", err)
		}
	}
	if err != nil { // not the input's fault (randomness): exit 1
		return fmt.Errorf("token issue: %w", err)
	}
	fmt.Fprintln(e.stdout, token)
	return nil
}

func runTokenDecode(e env, args []string) error {
	fs := flag.NewFlagSet("console token decode", flag.ContinueOnError)
	var appID uint32
	fs.Func("app-id", "also check that the token is for this `AppID` (0: no check)", func(s string) error {
		if strings.TrimSpace(s) == "0" {
			appID = 0
			return nil
		}
		return appIDFlag(&appID)(s)
	})
	now := fs.Int64("now", 0, "check expiry as of this `unix` time instead of the clock (0: the clock)")
	secret := addSecretFlags(fs)
	positional, set, err := parseFlags(e, fs, args, "Usage: console token decode [--app-id N] [--now UNIX] TOKEN|-\n\n"+
		"Prints the claims as JSON. Exit status 0: valid; 1: does not verify or expired; 2: usage.")
	if err != nil || set["help"] {
		return err
	}
	if len(positional) != 1 {
		return usageError("token decode: want exactly one TOKEN argument, or - to read it from stdin; got %d", len(positional))
	}
	token := positional[0]
	if token == "-" {
		data, err := io.ReadAll(io.LimitReader(e.stdin, 1<<20)) // tokens are a few hundred bytes
		if err != nil {
			return usageError("token decode: read stdin: %v", err)
		}
		token = string(data)
	}
	if token = token04.CleanPasted(token); token == "" {
		return usageError("token decode: empty token")
	}
	key, err := secret.load(e)
	if err != nil {
		return usageError("token decode: %v", err)
	}
	at := time.Now()
	if *now != 0 {
		at = time.Unix(*now, 0)
	}

	d, err := token04.Decode(token, key, token04.DecodeOptions{Now: at, ExpectAppID: appID})
	switch {
	case errors.Is(err, token04.ErrSecretLength):
		return usageError("token decode: %v (from %s)", err, secret.source)
	// These come with authentic claims: show them, they explain the refusal.
	case err == nil, errors.Is(err, token04.ErrExpired), errors.Is(err, token04.ErrNotYetValid),
		errors.Is(err, token04.ErrAppIDMismatch):
		if werr := writeDecoded(e.stdout, d, at.Unix() >= d.Claims.Expire); werr != nil {
			return werr
		}
	}
	if err != nil {
		return &exitError{code: 1, err: fmt.Errorf("token decode: %w", err)}
	}
	return nil
}

// decodedJSON is what decode prints: the claims, how the token was sealed,
// and the privilege payload spelled out when there is one.
type decodedJSON struct {
	token04.Claims
	Mode         string          `json:"mode"`
	Expired      bool            `json:"expired"`
	RoomID       *string         `json:"room_id,omitempty"`
	Privilege    *privilegeJSON  `json:"privilege,omitempty"`
	StreamIDList json.RawMessage `json:"stream_id_list,omitempty"` // present as null when the payload has none
}

// privilegeJSON has the shape the payload itself uses, so what people read here is what they wrote.
type privilegeJSON struct {
	Login   int `json:"1"`
	Publish int `json:"2"`
}

func writeDecoded(w io.Writer, d token04.Decoded, expired bool) error {
	out := decodedJSON{Claims: d.Claims, Mode: d.Mode.String(), Expired: expired}
	if p, err := token04.ParsePrivilege(d.Claims.Payload); err == nil {
		out.RoomID = &p.RoomID
		out.Privilege = &privilegeJSON{Login: privilegeBit(p.Login), Publish: privilegeBit(p.Publish)}
		out.StreamIDList, _ = json.Marshal(p.StreamIDs) // nil marshals to null
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func privilegeBit(b bool) int {
	if b {
		return 1
	}
	return 0
}

// appIDFlag is the flag.Func that reads an AppID into dst, by the one rule
// the web console and the API use too.
func appIDFlag(dst *uint32) func(string) error {
	return func(s string) error {
		id, err := token04.ParseAppID(s)
		if err != nil {
			return err
		}
		*dst = id
		return nil
	}
}

func parsePrivileges(list string) (login, publish bool, err error) {
	for _, name := range strings.Split(list, ",") {
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "login":
			login = true
		case "publish":
			publish = true
		case "":
		default:
			return false, false, fmt.Errorf("unknown privilege %q (want login or publish)", name)
		}
	}
	return login, publish, nil
}

// secretFlags are the three places a ServerSecret can come from. The file
// and the environment keep it out of shell history and `ps`; --secret is
// there for quick experiments with a test project.
type secretFlags struct {
	file, value *string
	source      string // where load found the secret, for error messages
}

func addSecretFlags(fs *flag.FlagSet) *secretFlags {
	return &secretFlags{
		file:  fs.String("secret-file", "", "read the 32-character ServerSecret from `file` (a trailing newline is ignored)"),
		value: fs.String("secret", "", "the ServerSecret `text` itself (visible in ps; prefer --secret-file or $ZEGO_SERVER_SECRET)"),
	}
}

func (s *secretFlags) load(e env) ([]byte, error) {
	switch {
	case *s.file != "":
		data, err := os.ReadFile(*s.file)
		if err != nil {
			return nil, fmt.Errorf("read --secret-file: %w", err)
		}
		s.source = "--secret-file " + *s.file
		return []byte(strings.TrimSuffix(strings.TrimSuffix(string(data), "\n"), "\r")), nil
	case *s.value != "":
		s.source = "--secret"
		return []byte(*s.value), nil
	case e.getenv("ZEGO_SERVER_SECRET") != "":
		s.source = "$ZEGO_SERVER_SECRET"
		return []byte(e.getenv("ZEGO_SERVER_SECRET")), nil
	}
	return nil, errors.New("no ServerSecret: pass --secret-file FILE, set ZEGO_SERVER_SECRET, or pass --secret TEXT")
}

// parseFlags parses flags placed before or after the positional arguments
// (so `decode TOKEN --now 5` works) and reports which flags were set. On
// --help it prints the flags to stderr and reports set["help"]; flag errors
// become usage errors, printed once by main rather than also by the flag package.
func parseFlags(e env, fs *flag.FlagSet, args []string, usage string) (positional []string, set map[string]bool, err error) {
	fs.SetOutput(io.Discard)
	for {
		if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(e.stderr)
			fmt.Fprintf(e.stderr, "%s\n\nFlags:\n", usage)
			fs.PrintDefaults()
			return nil, map[string]bool{"help": true}, nil
		} else if err != nil {
			return nil, nil, usageError("%s: %v (see --help)", strings.TrimPrefix(fs.Name(), "console "), err)
		}
		if fs.NArg() == 0 {
			break
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
	set = map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	return positional, set, nil
}
