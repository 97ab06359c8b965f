package main

import (
	"net/http"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"slices"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// opsBuildConsole builds the console binary from this module, with the race
// detector when the tests have it (which also reuses their build cache).
func opsBuildConsole(t testing.TB) string {
	t.Helper()
	root, err := opsModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "console")
	args := []string{"build", "-o", bin}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "-race" && s.Value == "true" {
				args = append(args, "-race")
			}
		}
	}
	cmd := exec.Command("go", append(args, "./cmd/console")...)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %v: %v\n%s", cmd.Args[1:], err, out)
	}
	return bin
}

// consoleProc is a console server process that the test may kill and
// restart on the same address.
type consoleProc struct {
	name    string
	bin     string
	environ []string
	addr    string // set by the first start; restarts reuse it
	log     *opsLog
	client  *http.Client
	// epoch is odd from the moment the process is killed until it is
	// ready again: a request that starts or ends in such a window may get
	// no answer at all.
	epoch atomic.Int64
	cur   *procRun
}

// procRun is one run of the process.
type procRun struct {
	cmd    *exec.Cmd
	exited chan struct{}
	err    error // Wait's result once exited is closed
}

func newConsoleProc(name, bin string, environ []string) *consoleProc {
	return &consoleProc{name: name, bin: bin, environ: environ, log: newOpsLog(),
		client: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 16}}}
}

// URL is the console's base URL; it does not change across restarts.
func (p *consoleProc) URL() string { return "http://" + p.addr }

// start runs the process and waits until it is ready.
func (p *consoleProc) start(t testing.TB) {
	t.Helper()
	addr := p.addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	from := p.log.Len()
	r := &procRun{cmd: exec.Command(p.bin, "serve"), exited: make(chan struct{})}
	r.cmd.Env = append(slices.Clone(p.environ), "CONSOLE_ADDR="+addr)
	r.cmd.Stdout, r.cmd.Stderr = p.log, p.log
	if err := r.cmd.Start(); err != nil {
		t.Fatalf("start console %s: %v", p.name, err)
	}
	go func() {
		r.err = r.cmd.Wait()
		close(r.exited)
	}()
	t.Cleanup(func() {
		_ = r.cmd.Process.Kill()
		<-r.exited
	})
	p.cur = r
	m := p.log.waitFor(opsListening, from, r.exited, 60*time.Second)
	if m == nil {
		t.Fatalf("console %s did not start listening; its output:\n%s", p.name, p.log.String()[from:])
	}
	if p.addr == "" {
		p.addr = m[1]
	}
	opsWaitReady(t, p.client, p.URL(), 30*time.Second)
}

// kill sends SIGKILL and waits until the process is gone.
func (p *consoleProc) kill(t testing.TB) {
	t.Helper()
	p.epoch.Add(1)
	if err := p.cur.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("kill console %s: %v", p.name, err)
	}
	select {
	case <-p.cur.exited:
	case <-time.After(30 * time.Second):
		t.Fatalf("console %s still runs 30s after SIGKILL", p.name)
	}
	p.client.CloseIdleConnections()
}

// restart starts the killed process again on its address.
func (p *consoleProc) restart(t testing.TB) {
	t.Helper()
	p.start(t)
	p.epoch.Add(1)
}

// terminate sends SIGTERM and returns the exit status of a graceful shutdown.
func (p *consoleProc) terminate(t testing.TB) error {
	t.Helper()
	select {
	case <-p.cur.exited:
		return p.cur.err // already gone
	default:
	}
	if err := p.cur.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("signal console %s: %v", p.name, err)
	}
	select {
	case <-p.cur.exited:
		return p.cur.err
	case <-time.After(30 * time.Second):
		t.Fatalf("console %s still runs 30s after SIGTERM; its output:\n%s", p.name, p.log)
		return nil
	}
}
