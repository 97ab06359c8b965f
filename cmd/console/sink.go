package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/zegocloud-console/console/internal/sink"
	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/token04"
)

const sinkUsage = `Usage: console sink <subcommand> [flags]

Manages the audit sinks (where the sealed audit trail is streamed) in the
database in DATABASE_URL, audited like the web console's Audit sinks page.
Subcommands:
  create          add a webhook, syslog (TLS) or file sink; prints its id, and for a
                  webhook its whsec_ signing secret, once
  list            list the sinks with their state, cursor, lag and last error
  pause ID        stop delivering (the cursor stays)
  resume ID       deliver again (also a sink disabled by 410 Gone or exhausted retries)
  replay ID       deliver again from a chain position: --from SEQ
  test ID         send a test event now and say whether the receiver took it
  rotate-secret ID  new webhook secret, printed once; the old one signs too for a day
  delete ID       remove the sink

Run 'console sink <subcommand> --help' for its flags.`

func runSink(ctx context.Context, e env, args []string) error {
	return dispatch(ctx, e, args, "sink", sinkUsage, command{name: "create", run: runSinkCreate},
		command{name: "list", run: runSinkList},
		command{name: "pause", run: sinkByID("pause", func(ctx context.Context, st *store.Store, id int64) (string, error) {
			_, err := st.SetSinkState(ctx, id, store.SinkPaused, cliActor, store.Origin{})
			return fmt.Sprintf("sink %d paused", id), err
		})},
		command{name: "resume", run: sinkByID("resume", func(ctx context.Context, st *store.Store, id int64) (string, error) {
			_, err := st.SetSinkState(ctx, id, store.SinkActive, cliActor, store.Origin{})
			return fmt.Sprintf("sink %d resumed", id), err
		})},
		command{name: "delete", run: sinkByID("delete", func(ctx context.Context, st *store.Store, id int64) (string, error) {
			return fmt.Sprintf("sink %d deleted", id), st.DeleteSink(ctx, id, cliActor, store.Origin{})
		})},
		command{name: "rotate-secret", run: sinkByID("rotate-secret", func(ctx context.Context, st *store.Store, id int64) (string, error) {
			return st.RotateSinkSecret(ctx, id, cliActor, store.Origin{})
		})},
		command{name: "replay", run: runSinkReplay}, command{name: "test", run: runSinkTest})
}

// sinkByID runs a subcommand that takes a sink id and nothing else, and
// prints what fn returns.
func sinkByID(name string, fn func(context.Context, *store.Store, int64) (string, error)) func(context.Context, env, []string) error {
	return func(ctx context.Context, e env, args []string) error {
		fs := flag.NewFlagSet("console sink "+name, flag.ContinueOnError)
		id, st, err := sinkArgs(ctx, e, fs, args, "Usage: console sink "+name+" ID")
		if err != nil || st == nil {
			return err
		}
		defer st.Close()
		out, err := fn(ctx, st, id)
		if err != nil {
			return storeError("sink "+name, err)
		}
		fmt.Fprintln(e.stdout, out)
		return nil
	}
}

// sinkArgs parses a subcommand's flags and its one sink id, and opens the
// store; a nil store with a nil error means help was printed.
func sinkArgs(ctx context.Context, e env, fs *flag.FlagSet, args []string, usage string) (int64, *store.Store, error) {
	positional, set, err := parseFlags(e, fs, args, usage)
	if err != nil || set["help"] {
		return 0, nil, err
	}
	if len(positional) != 1 {
		return 0, nil, usageError("%s: want one sink id", strings.TrimPrefix(fs.Name(), "console "))
	}
	id, err := strconv.ParseInt(positional[0], 10, 64)
	if err != nil || id < 1 {
		return 0, nil, usageError("%s: %q is not a sink id (see 'console sink list')", strings.TrimPrefix(fs.Name(), "console "), positional[0])
	}
	st, _, err := openStore(ctx, e)
	return id, st, err
}

func runSinkReplay(ctx context.Context, e env, args []string) error {
	fs := flag.NewFlagSet("console sink replay", flag.ContinueOnError)
	from := fs.Int64("from", 0, "deliver again from this chain `seq` on (required)")
	id, st, err := sinkArgs(ctx, e, fs, args, "Usage: console sink replay ID --from SEQ")
	if err != nil || st == nil {
		return err
	}
	defer st.Close()
	if _, err := st.ReplaySink(ctx, id, *from, cliActor, store.Origin{}); err != nil {
		return storeError("sink replay", err)
	}
	fmt.Fprintf(e.stdout, "sink %d delivers again from seq %d\n", id, *from)
	return nil
}

func runSinkTest(ctx context.Context, e env, args []string) error {
	fs := flag.NewFlagSet("console sink test", flag.ContinueOnError)
	id, st, err := sinkArgs(ctx, e, fs, args, "Usage: console sink test ID")
	if err != nil || st == nil {
		return err
	}
	defer st.Close()
	c, _ := loadConfig(e.getenv)
	k, err := st.GetSink(ctx, id)
	if err != nil {
		return storeError("sink test", err)
	}
	sec, err := st.OpenSinkSecrets(k)
	if err != nil {
		return storeError("sink test", err)
	}
	sent := sink.NewDeliverer(sink.Options{Dir: c.SinkDir}).Test(ctx, k, sec)
	if err := st.RecordSinkTest(ctx, k, sent, cliActor, store.Origin{}); err != nil {
		return err
	}
	if sent != nil {
		return &exitError{code: 1, err: fmt.Errorf("sink test: %s did not take the test event: %w", k.Destination(), sent)}
	}
	fmt.Fprintf(e.stdout, "%s took the test event\n", k.Destination())
	return nil
}

func runSinkCreate(ctx context.Context, e env, args []string) error {
	fs := flag.NewFlagSet("console sink create", flag.ContinueOnError)
	var in store.SinkInput
	fs.StringVar(&in.Kind, "kind", "", "webhook, syslog or file (required)")
	fs.StringVar(&in.Name, "name", "", "a name for the sink (required)")
	fs.StringVar(&in.URL, "url", "", "webhook: the receiver's http(s) URL")
	fs.StringVar(&in.Format, "format", "", "webhook: ndjson (batches, the default) or json (one event per request)")
	headerFile := fs.String("header-file", "", "webhook: a `file` of custom headers, one 'Name: value' a line (kept encrypted)")
	fs.BoolVar(&in.AllowPrivate, "allow-private", false, "webhook, syslog: allow loopback and private addresses (never link-local or metadata)")
	fs.StringVar(&in.Address, "address", "", "syslog: host:port of a receiver speaking TLS (RFC 5425)")
	fs.StringVar(&in.ServerName, "server-name", "", "syslog: the name in the receiver's certificate, when not the host")
	caFile := fs.String("ca-file", "", "syslog: PEM `file` of the CA certificates to trust (default: the system's)")
	certFile := fs.String("client-cert", "", "syslog: PEM `file` of a client certificate")
	keyFile := fs.String("client-key", "", "syslog: PEM `file` of its private key (kept encrypted)")
	fs.IntVar(&in.Facility, "facility", 0, "syslog: facility 1-23 (default 13, log audit)")
	fs.IntVar(&in.MaxMessage, "max-message", 0, "syslog: the receiver's largest message in bytes (default 8192)")
	fs.StringVar(&in.Path, "path", "", "file: a file name in CONSOLE_SINK_DIR")
	fs.Int64Var(&in.MaxBytes, "max-bytes", 0, "file: rotate past this size (default 100 MiB)")
	fs.Func("project", "only events of this `AppID`; may repeat", func(s string) error {
		id, err := token04.ParseAppID(s)
		in.Filter.AppIDs = append(in.Filter.AppIDs, int64(id))
		return err
	})
	fs.Func("action", "only this `action` (token.issue) or prefix (token.*); may repeat", func(s string) error {
		in.Filter.Actions = append(in.Filter.Actions, s)
		return nil
	})
	fs.Func("outcome", "only this `outcome` (success, denied, error); may repeat", func(s string) error {
		in.Filter.Outcomes = append(in.Filter.Outcomes, s)
		return nil
	})
	fs.Int64Var(&in.FromSeq, "from-seq", 0, "deliver from this chain `seq` on (default: events sealed from now on)")
	positional, set, err := parseFlags(e, fs, args, "Usage: console sink create --kind webhook|syslog|file --name NAME [flags]\n\n"+
		"Prints the sink's id, and for a webhook its whsec_ signing secret on the next line: it is shown only this once.")
	if err != nil || set["help"] {
		return err
	}
	if len(positional) > 0 {
		return usageError("sink create: unexpected argument %q", positional[0])
	}
	for _, f := range []struct {
		path string
		dst  *string
	}{{*caFile, &in.CAPEM}, {*certFile, &in.ClientCert}, {*keyFile, &in.ClientKey}} {
		if f.path != "" {
			b, err := os.ReadFile(f.path)
			if err != nil {
				return usageError("sink create: %v", err)
			}
			*f.dst = string(b)
		}
	}
	if *headerFile != "" {
		b, err := os.ReadFile(*headerFile)
		if err == nil {
			in.Headers, err = store.ParseSinkHeaders(string(b))
		}
		if err != nil {
			return usageError("sink create: --header-file: %v", err)
		}
	}
	st, _, err := openStore(ctx, e)
	if err != nil {
		return err
	}
	defer st.Close()
	k, secret, err := st.CreateSink(ctx, in, cliActor, store.Origin{})
	if err != nil {
		return storeError("sink create", err)
	}
	fmt.Fprintln(e.stdout, k.ID)
	if secret != "" {
		fmt.Fprintln(e.stdout, secret)
		fmt.Fprintln(e.stderr, "The second line is the webhook signing secret: give it to the receiver now, it is not shown again.")
	}
	fmt.Fprintf(e.stderr, "created %s sink %d (%s) to %s, delivering from seq %d\n", k.Kind, k.ID, k.Name, k.Destination(), k.CursorSeq+1)
	return nil
}

func runSinkList(ctx context.Context, e env, args []string) error {
	fs := flag.NewFlagSet("console sink list", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print a JSON array instead of a table")
	positional, set, err := parseFlags(e, fs, args, "Usage: console sink list [--json]")
	if err != nil || set["help"] {
		return err
	}
	if len(positional) > 0 {
		return usageError("sink list: unexpected argument %q", positional[0])
	}
	st, _, err := openStore(ctx, e)
	if err != nil {
		return err
	}
	defer st.Close()
	sinks, err := st.ListSinks(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		if sinks == nil {
			sinks = []store.Sink{}
		}
		return json.NewEncoder(e.stdout).Encode(sinks)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tKIND\tDESTINATION\tSTATE\tCURSOR\tLAG\tDELIVERED\tFAILED\tLAST ERROR")
	for _, k := range sinks {
		state := k.State
		if k.StateReason != "" {
			state += " (" + k.StateReason + ")"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d\t%d events, %.0fs\t%d\t%d\t%s\n", k.ID, k.Name, k.Kind, k.Destination(), state,
			k.CursorSeq, k.LagEvents, k.LagSeconds, k.Delivered, k.Failed, k.LastError)
	}
	return tw.Flush()
}
