package ui_test

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// Checks that every page a browser test captures must pass, at every size:
// no serious or critical accessibility violation found by axe-core, and no
// sideways scrolling except inside code blocks.

// axeScript is the axe-core engine that make test installs, pinned, under
// tools/axe (npm ci); read once per test binary.
var axeScript = sync.OnceValues(func() ([]byte, error) {
	root, err := moduleRoot()
	if err != nil {
		return nil, err
	}
	return os.ReadFile(filepath.Join(root, "tools", "axe", "node_modules", "axe-core", "axe.min.js"))
})

// moduleRoot is the folder of go.mod above the working directory.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", os.ErrNotExist
		}
		dir = parent
	}
}

// axeViolation is one rule that failed on a page, with its first few elements.
type axeViolation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
}

// axeRun runs every axe-core rule (WCAG 2.x A and AA and the best practices)
// on the page and keeps the serious and critical violations, and those of
// two milder rules that once failed here (a skipped heading level, a table
// header without text).
const axeRun = `(async () => {
  const r = await axe.run(document, { resultTypes: ["violations"] });
  return r.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical" || ["heading-order", "empty-table-header"].includes(v.id))
    .map((v) => ({ id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.slice(0, 4).map((n) => n.target.join(" ") + ": " + (n.failureSummary || "").replace(/\s+/g, " ")) }));
})()`

// sidewaysScroll lists what makes the page scroll sideways: the page itself
// when it is wider than the window (with the elements that stick out), and
// every element that scrolls sideways, except code blocks.
const sidewaysScroll = `(() => {
  const name = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
    (el.dataset.testid ? "[data-testid=" + el.dataset.testid + "]" : "") +
    (el.className && typeof el.className === "string" ? "." + el.className.trim().split(/\s+/).join(".") : "");
  const inCode = (el) => el.closest("pre, code, textarea");
  const out = [];
  const root = document.documentElement, vw = root.clientWidth;
  if (root.scrollWidth > vw) {
    const wide = [...document.body.querySelectorAll("*")]
      .filter((el) => !inCode(el) && el.getBoundingClientRect().right > vw + 1 && el.getClientRects().length > 0)
      .slice(0, 5).map(name);
    out.push("the page is " + root.scrollWidth + " px wide in a " + vw + " px window; sticking out: " + wide.join(", "));
  }
  for (const el of document.body.querySelectorAll("*")) {
    if (inCode(el) || el.getClientRects().length === 0) continue;
    const x = getComputedStyle(el).overflowX;
    if ((x === "auto" || x === "scroll") && el.scrollWidth > el.clientWidth + 1) {
      out.push(name(el) + " scrolls sideways (" + el.scrollWidth + " px of content in " + el.clientWidth + " px)");
    }
  }
  return out;
})()`

// checkPage fails the test when the page the tab shows has a serious or
// critical axe-core violation, in the light or the dark colour scheme, or
// scrolls sideways outside code blocks.
func (b *tab) checkPage(t *testing.T, name string) {
	t.Helper()
	script, err := axeScript()
	if err != nil {
		t.Fatalf("axe-core is not installed (%v): run `npm ci` in tools/axe (make test does)", err)
	}
	if !run(t, b, "look for axe", chromedp.Evaluate[bool](`typeof axe === "object"`)) {
		b.do(t, "load axe-core", chromedp.Evaluate[chromedp.Void](string(script)))
	}
	for _, scheme := range []string{"light", "dark"} {
		b.colorScheme(t, scheme)
		where := name + " at " + b.h.screen.name + " size, " + scheme
		violations := run(t, b, "run axe-core on "+name, chromedp.Evaluate[[]axeViolation](axeRun, chromedp.EvalAwaitPromise))
		for _, v := range violations {
			t.Errorf("%s: axe %s violation %s (%s):\n\t%s", where, v.Impact, v.ID, v.Help, strings.Join(v.Nodes, "\n\t"))
		}
	}
	b.colorScheme(t, "light")
	where := name + " at " + b.h.screen.name + " size"
	for _, s := range run(t, b, "measure "+name, chromedp.Evaluate[[]string](sidewaysScroll)) {
		t.Errorf("%s: %s", where, s)
	}
}

// navTo follows the navigation link key (nav-key), opening the menu first
// where the screen is too small to show the links, and waits for waitFor.
func (b *tab) navTo(t *testing.T, key string, waitFor chromedp.CSS) {
	t.Helper()
	menu := `(() => { const m = document.querySelector("[data-testid=nav-toggle]"); return !!m && m.getClientRects().length > 0 && m.getAttribute("aria-expanded") !== "true"; })()`
	if run(t, b, "look for the menu button", chromedp.Evaluate[bool](menu)) {
		b.do(t, "open the menu", chromedp.Click(tid("nav-toggle")), chromedp.WaitVisible(tid("nav-"+key)))
	}
	b.follow(t, "open "+key, tid("nav-"+key), waitFor)
}

// colorScheme makes the tab's pages see prefers-color-scheme: scheme.
func (b *tab) colorScheme(t *testing.T, scheme string) {
	t.Helper()
	_, err := chromedp.Call(b.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}})
	if err != nil {
		t.Fatalf("%s: emulate the %s colour scheme: %v", b.who, scheme, err)
	}
}
