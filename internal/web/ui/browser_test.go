package ui_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// Bounds of a browser test: starting Chromium, then everything the test
// does in it (every page, every download, every accessibility scan). The
// journey takes 15–30 s on an idle two-core machine and up to 80 s on a busy
// one, where it runs beside the other browser tests.
const (
	browserStartTimeout = 30 * time.Second
	browserTimeout      = 150 * time.Second
)

// viewport is a screen the browser tests look at the console through.
type viewport struct {
	name          string // the suffix of the screenshots taken at this size
	width, height int64
	mobile        bool // a phone: mobile layout, touch, portrait
}

// The two screens every page is checked at, a laptop and a phone, and the
// narrowest phone the console is made for (the tour checks it too).
var (
	desktop     = viewport{name: "desktop", width: 1366, height: 900}
	phone       = viewport{name: "phone", width: 390, height: 844, mobile: true}
	narrowPhone = viewport{name: "phone360", width: 360, height: 740, mobile: true}
	viewports   = []viewport{desktop, phone}
)

// chromePath finds the Chromium the browser tests drive: $CHROME_BIN, else the
// first of chromium, chromium-browser and google-chrome on PATH. Without one
// the test fails: the UI is specified by these tests, so a missing browser
// must never pass as a skip.
func chromePath(t *testing.T) string {
	t.Helper()
	if bin := os.Getenv("CHROME_BIN"); bin != "" {
		p, err := exec.LookPath(bin)
		if err != nil {
			t.Fatalf("CHROME_BIN=%q is not an executable: %v", bin, err)
		}
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("no Chromium for the browser tests: run `make chromium` (scripts/ensure-chromium.sh), " +
		"or `sudo apt-get install chromium` on Debian/Ubuntu, or set CHROME_BIN to a Chrome or Chromium binary")
	return ""
}

// screenshotDir is where browser tests save their screenshots:
// $TEST_OUTPUT_DIR, else test-output/screenshots/ under the module root
// (git-ignored).
func screenshotDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("TEST_OUTPUT_DIR")
	if dir == "" {
		root, err := moduleRoot()
		if err != nil {
			t.Fatalf("screenshots: no go.mod above the working directory (%v); set TEST_OUTPUT_DIR", err)
		}
		dir = filepath.Join(root, "test-output", "screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("screenshots: %v", err)
	}
	return dir
}

// seenPage is a page as the browser rendered it.
type seenPage struct {
	name, url, html string
}

// headless is one headless Chromium for one test. Every page that a tab
// captures lands in pages, so the test can check all the HTML it saw.
type headless struct {
	ctx      context.Context // the browser's first tab; people's tabs derive from it
	deadline time.Time       // when the test's work in the browser must be done
	shots    string          // screenshot folder, "" for none
	screen   viewport        // the size every tab shows pages at
	pages    []seenPage
}

// newHeadless starts Chromium at desktop size; see newHeadlessAt.
func newHeadless(t *testing.T, shots bool) *headless {
	t.Helper()
	return newHeadlessAt(t, shots, desktop)
}

// newHeadlessAt starts Chromium with a fresh profile, its tabs showing pages
// at the size of screen. It must start within browserStartTimeout; the tabs
// it opens then have browserTimeout for all their work. Chromium stops when
// t ends.
func newHeadlessAt(t *testing.T, shots bool, screen viewport) *headless {
	t.Helper()
	bin := chromePath(t)
	profile := t.TempDir()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(int(screen.width), int(screen.height)),
	)
	// The first run binds the browser's life to its context, so the start
	// is bounded by a timer that cancels the allocator, not by a deadline.
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(t.Context(), opts...)
	browserCtx, cancelBrowser := chromedp.NewContext(allocCtx)
	// Registered after t.TempDir, so it runs first: Chromium has exited
	// before its profile is removed.
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc()
	})
	start := time.Now()
	watchdog := time.AfterFunc(browserStartTimeout, cancelAlloc)
	err := chromedp.Do(browserCtx)
	if !watchdog.Stop() {
		t.Fatalf("Chromium %s did not start within %v: %v", bin, browserStartTimeout, err)
	}
	if err != nil {
		t.Fatalf("start Chromium %s: %v", bin, err)
	}
	t.Logf("Chromium %s started in %v", bin, time.Since(start).Round(time.Millisecond))
	h := &headless{ctx: browserCtx, deadline: time.Now().Add(browserTimeout), screen: screen}
	if shots {
		h.shots = screenshotDir(t)
	}
	return h
}

// tab is one person at the console: a tab in a browser context of its own,
// so cookies (the session) are not shared with the other people.
type tab struct {
	h    *headless
	who  string
	base string
	ctx  context.Context
}

// newTab opens a tab for who in a fresh browser context, against the console at base.
func (h *headless) newTab(t *testing.T, who, base string) *tab {
	t.Helper()
	tabCtx, cancelTab := chromedp.NewContext(h.ctx, chromedp.WithNewBrowserContext())
	ctx, cancel := context.WithDeadline(tabCtx, h.deadline)
	t.Cleanup(func() {
		cancel()
		cancelTab()
	})
	emulate := []chromedp.EmulateViewportOption{chromedp.EmulateLandscape}
	if h.screen.mobile {
		emulate = []chromedp.EmulateViewportOption{chromedp.EmulatePortrait, chromedp.EmulateMobile, chromedp.EmulateTouch}
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(h.screen.width, h.screen.height, emulate...)); err != nil {
		t.Fatalf("%s: open a tab at %s size: %v", who, h.screen.name, err)
	}
	return &tab{h: h, who: who, base: base, ctx: ctx}
}

// tid selects the element with that data-testid.
func tid(id string) chromedp.CSS {
	return chromedp.CSS(fmt.Sprintf("[data-testid=%q]", id))
}

// do runs steps and stops the test at the first failure.
func (b *tab) do(t *testing.T, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		t.Fatalf("%s: %s: %v", b.who, what, err)
	}
}

// run runs one action that returns a value.
func run[T any](t *testing.T, b *tab, what string, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(b.ctx, a)
	if err != nil {
		t.Fatalf("%s: %s: %v", b.who, what, err)
	}
	return v
}

// open navigates to path, requires a 200 and waits for the element waitFor.
func (b *tab) open(t *testing.T, path, waitFor string) {
	t.Helper()
	res := run(t, b, "open "+path, chromedp.NavigateResponse(b.base+path))
	b.requireOK(t, "open "+path, res.Status)
	b.do(t, "open "+path, chromedp.WaitVisible(tid(waitFor)))
}

// follow clicks sel (a link or a submit button), waits until the page it
// leads to has loaded (after redirects), requires a 2xx and waits for waitFor.
func (b *tab) follow(t *testing.T, what string, sel chromedp.CSS, waitFor chromedp.CSS) {
	t.Helper()
	res, err := chromedp.RunResponse(b.ctx, chromedp.Click(sel))
	if err != nil {
		t.Fatalf("%s: %s: %v", b.who, what, err)
	}
	b.requireOK(t, what, res.Status)
	b.do(t, what, chromedp.WaitVisible(waitFor))
}

func (b *tab) requireOK(t *testing.T, what string, status int64) {
	t.Helper()
	if status < 200 || status > 299 {
		body, _ := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS("main")))
		t.Fatalf("%s: %s: got HTTP %d, want 2xx; the page says:\n%s", b.who, what, status, body)
	}
}

// signIn signs who in through the login form and waits for the dashboard.
func (b *tab) signIn(t *testing.T, username, password string, shot string) {
	t.Helper()
	b.open(t, "/login", "login")
	if shot != "" {
		b.capture(t, shot)
	}
	b.do(t, "fill the login form",
		chromedp.SendKeys(tid("login-username"), username),
		chromedp.SendKeys(tid("login-password"), password),
	)
	b.follow(t, "sign in", tid("login-submit"), chromedp.CSS("#main"))
	// On a phone the name sits in the folded menu: read it, seen or not.
	if got := run(t, b, "read who is signed in", chromedp.JavascriptAttribute[string](tid("who"), "textContent")); got != username {
		t.Fatalf("%s: signed in as %q, want %q", b.who, got, username)
	}
}

// capture records the page's HTML and, when the test keeps screenshots,
// saves a full-page PNG named name-desktop.png or name-phone.png. A page of
// the console (not another site the test passes through) must also pass the
// page checks (checkPage). It returns the HTML.
func (b *tab) capture(t *testing.T, name string) string {
	t.Helper()
	html := run(t, b, "read the page HTML", chromedp.OuterHTML(chromedp.CSS("html")))
	url := run(t, b, "read the location", chromedp.Location())
	b.h.pages = append(b.h.pages, seenPage{name: name, url: url, html: html})
	if b.h.shots != "" {
		png := run(t, b, "screenshot "+name, chromedp.FullScreenshot(100)) // quality 100 => PNG
		path := filepath.Join(b.h.shots, name+"-"+b.h.screen.name+".png")
		if err := os.WriteFile(path, png, 0o644); err != nil {
			t.Fatalf("save screenshot: %v", err)
		}
	}
	if strings.HasPrefix(url, b.base+"/") {
		b.checkPage(t, name)
	}
	return html
}

// acceptDialogs answers every JavaScript dialog of the tab (the data-confirm
// confirmations) with OK and reports each message on the returned channel.
// A dialog blocks the click that opened it, so another goroutine answers it.
func (b *tab) acceptDialogs() <-chan string {
	messages := make(chan string, 16)
	dialogs := chromedp.Events(b.ctx, page.JavascriptDialogOpening) // subscribed now, before any click
	go func() {
		for ev, err := range dialogs {
			if err != nil {
				return // the tab has ended
			}
			select {
			case messages <- ev.Message:
			default:
			}
			if _, err := chromedp.Call(b.ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true}); err != nil {
				return
			}
		}
	}()
	return messages
}

// allowDownloads saves the downloads of the tab's browser context in dir,
// named by their GUID, and turns on the download events.
func (b *tab) allowDownloads(t *testing.T, dir string) {
	t.Helper()
	_, err := chromedp.CallBrowser(b.ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior:         browser.SetDownloadBehaviorBehaviorAllowAndName,
		BrowserContextID: chromedp.FromContext(b.ctx).BrowserContextID,
		DownloadPath:     dir,
		EventsEnabled:    new(true),
	})
	if err != nil {
		t.Fatalf("%s: allow downloads: %v", b.who, err)
	}
}

// download clicks sel, waits for the download it starts to complete and
// returns the name the server suggested and the file's content.
func (b *tab) download(t *testing.T, what string, sel chromedp.CSS, dir string) (string, []byte) {
	t.Helper()
	// Subscribe before the click: the events are buffered from here on.
	begins := chromedp.BrowserEvents(b.ctx, browser.DownloadWillBegin)
	progress := chromedp.BrowserEvents(b.ctx, browser.DownloadProgress)
	b.do(t, what, chromedp.Click(sel))
	var guid, suggested string
	for ev, err := range begins {
		if err != nil {
			t.Fatalf("%s: %s: no download began: %v", b.who, what, err)
		}
		guid, suggested = ev.GUID, ev.SuggestedFilename
		break
	}
	for ev, err := range progress {
		if err != nil {
			t.Fatalf("%s: %s: download %s did not complete: %v", b.who, what, suggested, err)
		}
		if ev.GUID != guid {
			continue
		}
		switch ev.State {
		case browser.DownloadProgressStateCompleted:
			path := ev.FilePath
			if path == "" {
				path = filepath.Join(dir, guid) // allowAndName names the file by its GUID
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%s: %s: read the download: %v", b.who, what, err)
			}
			return suggested, data
		case browser.DownloadProgressStateCanceled:
			t.Fatalf("%s: %s: the download of %s was canceled", b.who, what, suggested)
		}
	}
	t.Fatalf("%s: %s: the download events ended", b.who, what)
	return "", nil
}

// requireNoSecretSeen fails when a page the browser captured, from the
// from-th on, holds secret.
func (h *headless) requireNoSecretSeen(t *testing.T, secret string, from int) {
	t.Helper()
	if from >= len(h.pages) {
		t.Fatalf("no page was captured after #%d", from)
	}
	for _, p := range h.pages[from:] {
		if strings.Contains(p.html, secret) {
			t.Errorf("page %s (%s) holds the ServerSecret in its HTML", p.name, p.url)
		}
	}
}
