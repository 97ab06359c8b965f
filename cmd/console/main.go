// Command console is the ZEGO Token Console: the server, its migrations and an
// offline Token04 tool, in one binary.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// env is what a command reads from the outside world besides its arguments,
// passed explicitly so that tests can run commands in-process.
type env struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
}

// exitError carries the process exit code a command wants; its message, if
// any, has already been written or is written by main.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}
func (e *exitError) Unwrap() error { return e.err }

// usageError marks a command-line mistake: exit code 2.
func usageError(format string, a ...any) error {
	return &exitError{code: 2, err: fmt.Errorf(format, a...)}
}

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, e env, args []string) error
}

func commands() []command {
	return []command{
		{"serve", "serve the web console and the JSON API", runServe},
		{"migrate", "apply database migrations (as the schema owner)", runMigrate},
		{"db", "grant the runtime role what console serve needs", runDB},
		{"healthcheck", "exit 0 when the local console is ready (for containers)", runHealthcheck},
		{"token", "issue and decode Token04 offline (no database)", runToken},
		{"audit", "verify, seal and prune the audit trail", runAudit},
		{"project", "create and list ZEGO projects", runProject},
		{"apikey", "create, list and revoke API keys", runAPIKey},
		{"operator", "unlock an operator kept out by failed sign-ins", runOperator},
		{"sink", "stream the audit trail to webhooks, syslog and files", runSink},
		{"secrets", "re-encrypt ServerSecrets after a master key rotation", runSecrets},
		{"dev", "development and benchmark helpers (seed synthetic data)", runDev},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	e := env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}
	os.Exit(exitCode(run(ctx, e, os.Args[1:]), e.stderr))
}

// exitCode prints err and turns it into the process exit code.
func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil && ee.err.Error() != "" {
			fmt.Fprintln(stderr, "console:", ee.err)
		}
		return ee.code
	}
	fmt.Fprintln(stderr, "console:", err)
	return 1
}

func run(ctx context.Context, e env, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		printUsage(e.stdout)
		if len(args) == 0 {
			return &exitError{code: 2, err: errors.New("")}
		}
		return nil
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, e, args[1:])
		}
	}
	printUsage(e.stderr)
	return usageError("unknown command %q", args[0])
}

// dispatch runs the subcommand of command name that args[0] names. With no
// subcommand or an unknown one it prints usage to stderr (exit 2); with a
// help flag, to stdout.
func dispatch(ctx context.Context, e env, args []string, name, usage string, subs ...command) error {
	names := make([]string, len(subs))
	for i, sub := range subs {
		names[i] = sub.name
	}
	want := names[len(names)-1]
	if len(names) > 1 {
		want = strings.Join(names[:len(names)-1], ", ") + " or " + want
	}
	if len(args) == 0 {
		fmt.Fprintln(e.stderr, usage)
		return usageError("%s: missing subcommand (%s)", name, want)
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprintln(e.stdout, usage)
		return nil
	}
	for _, sub := range subs {
		if sub.name == args[0] {
			return sub.run(ctx, e, args[1:])
		}
	}
	fmt.Fprintln(e.stderr, usage)
	return usageError("%s: unknown subcommand %q (want %s)", name, args[0], want)
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "Usage: console <command> [flags]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-12s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'console <command> --help' for the flags of a command.")
}
