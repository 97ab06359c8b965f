package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// pgCluster is a PostgreSQL server of one test, which the test may stop and
// restart: made with initdb under a temporary directory, listening on
// 127.0.0.1 only, trust auth, fsync off (nothing here must survive the
// machine), with one database "console" owned by the role console_owner
// and an ordinary role console_runtime for the consoles.
type pgCluster struct {
	bindir   string
	base     string // owned by the server's user: data/ and server.log
	port     int
	postgres *user.User // set when we are root: the server runs as postgres
}

// opsModuleRoot is the directory of go.mod, found with `go env GOMOD`.
var opsModuleRoot = sync.OnceValues(func() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("go env GOMOD: not inside a module")
	}
	return filepath.Dir(gomod), nil
})

// newPGCluster creates and starts a private cluster; it is stopped and
// deleted when t ends. It fails, never skips, without PostgreSQL binaries.
func newPGCluster(t testing.TB) *pgCluster {
	t.Helper()
	root, err := opsModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd := exec.Command(filepath.Join(root, "scripts", "devdb.sh"), "bindir")
	cmd.Dir, cmd.Stderr = root, &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("PostgreSQL server binaries not found (scripts/devdb.sh bindir: %v): %s", err, stderr.String())
	}
	c := &pgCluster{bindir: strings.TrimSpace(string(out)), base: t.TempDir()}
	if os.Geteuid() == 0 {
		// PostgreSQL refuses to run as root; the server runs as postgres,
		// which must own its directory and reach it through every parent.
		if c.postgres, err = user.Lookup("postgres"); err != nil {
			t.Fatalf("running as root, the private cluster needs the user postgres: %v", err)
		}
		if exec.Command("runuser", "-u", "postgres", "--", "test", "-x", c.base).Run() != nil {
			if c.base, err = os.MkdirTemp("/var/tmp", "console-pgtest-"); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.RemoveAll(c.base) })
		}
		uid, _ := strconv.Atoi(c.postgres.Uid)
		gid, _ := strconv.Atoi(c.postgres.Gid)
		if err := os.Chown(c.base, uid, gid); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(c.base, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	c.run(t, "initdb", "-D", c.dataDir(), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync")
	conf := "\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = ''\nfsync = off\nfull_page_writes = off\n" +
		"synchronous_commit = on\nshared_buffers = 32MB\nmax_connections = 100\nlog_min_messages = warning\n"
	f, err := os.OpenFile(filepath.Join(c.dataDir(), "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err == nil {
		_, err = f.WriteString(conf)
		err = errors.Join(err, f.Close())
	}
	if err != nil {
		t.Fatalf("configure private cluster: %v", err)
	}
	t.Cleanup(func() { c.pgCtl("stop", "-m", "immediate") })
	// A port that was free a moment ago may be taken by now: try another.
	for attempt := 1; ; attempt++ {
		c.port = opsFreePort(t)
		out, err := c.pgCtl("start", "-o", "-p "+strconv.Itoa(c.port))
		if err == nil {
			break
		}
		if attempt == 3 || !strings.Contains(c.logTail(), "could not bind") {
			t.Fatalf("start private cluster: %v\n%s\nserver log:\n%s", err, out, c.logTail())
		}
	}
	conn, err := pgx.Connect(context.Background(), c.roleURL("postgres", "postgres"))
	if err != nil {
		t.Fatalf("connect to private cluster: %v", err)
	}
	defer conn.Close(context.Background())
	for _, q := range []string{"CREATE ROLE console_owner LOGIN", "CREATE ROLE console_runtime LOGIN",
		"CREATE DATABASE console OWNER console_owner"} {
		if _, err := conn.Exec(context.Background(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	return c
}

// OwnerURL connects to the console database as its owner, who migrates.
func (c *pgCluster) OwnerURL() string { return c.roleURL("console_owner", "console") }

// RuntimeURL is the DATABASE_URL of the consoles: the runtime role, once
// the owner granted it.
func (c *pgCluster) RuntimeURL() string { return c.roleURL("console_runtime", "console") }

func (c *pgCluster) roleURL(role, db string) string {
	return fmt.Sprintf("postgres://%s@127.0.0.1:%d/%s?sslmode=disable", role, c.port, db)
}

func (c *pgCluster) dataDir() string { return filepath.Join(c.base, "data") }
func (c *pgCluster) logFile() string { return filepath.Join(c.base, "server.log") }

// Start starts the stopped cluster on its port and waits until it accepts connections.
func (c *pgCluster) Start(t testing.TB) {
	t.Helper()
	if out, err := c.pgCtl("start", "-o", "-p "+strconv.Itoa(c.port)); err != nil {
		t.Fatalf("start private cluster: %v\n%s\nserver log:\n%s", err, out, c.logTail())
	}
}

// Stop stops the cluster: mode "fast" (disconnect clients, shut down
// cleanly) or "immediate" (kill it; it recovers from its WAL on start).
func (c *pgCluster) Stop(t testing.TB, mode string) {
	t.Helper()
	if out, err := c.pgCtl("stop", "-m", mode); err != nil {
		t.Fatalf("stop private cluster (%s): %v\n%s\nserver log:\n%s", mode, err, out, c.logTail())
	}
}

// Restart stops the cluster fast and starts it again.
func (c *pgCluster) Restart(t testing.TB) {
	t.Helper()
	c.Stop(t, "fast")
	c.Start(t)
}

// pgCtl runs pg_ctl on the cluster and waits for it to finish its action.
func (c *pgCluster) pgCtl(args ...string) (string, error) {
	args = append([]string{"-D", c.dataDir(), "-l", c.logFile(), "-w", "-t", "60"}, args...)
	return c.exec("pg_ctl", args...)
}

// run runs a PostgreSQL program and fails t when it fails.
func (c *pgCluster) run(t testing.TB, program string, args ...string) {
	t.Helper()
	if out, err := c.exec(program, args...); err != nil {
		t.Fatalf("%s: %v\n%s", program, err, out)
	}
}

// exec runs a program of bindir as the cluster's owner, in its directory.
func (c *pgCluster) exec(program string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	path := filepath.Join(c.bindir, program)
	cmd := exec.CommandContext(ctx, path, args...)
	if c.postgres != nil {
		cmd = exec.CommandContext(ctx, "runuser", append([]string{"-u", "postgres", "--", path}, args...)...)
	}
	cmd.Dir = c.base
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// logTail is the end of the server log, for failure messages.
func (c *pgCluster) logTail() string {
	b, _ := os.ReadFile(c.logFile())
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// opsFreePort returns a TCP port on 127.0.0.1 that was free just now.
func opsFreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
