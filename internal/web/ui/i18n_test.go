package ui

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/zegocloud-console/console/internal/web"
	"github.com/zegocloud-console/console/internal/web/ui/i18n"
)

// uiText finds the texts the UI's sources give for translation: t(ctx,
// "…"), tn(ctx, "…", n), tr(r, "…"), page titles s.page(r, "…", …),
// what a failure did not do s.failAs(w, r, err, "…") and error pages
// s.renderError(w, r, status, "…", "…").
var uiText = regexp.MustCompile("\\b(?:t\\(ctx|tn\\(ctx|tr\\(r|s\\.page\\(r|s\\.failAs\\(w, r, err|renderError\\(w, r, [^,]+),\\s*(\"(?:[^\"\\\\]|\\\\.)*\"|`[^`]*`)(?:,\\s*(\"(?:[^\"\\\\]|\\\\.)*\"))?")

func TestTranslations_EveryTextOfTheUIIsInTheCatalogs(t *testing.T) {
	files, err := filepath.Glob("*.templ")
	if err != nil {
		t.Fatal(err)
	}
	gofiles, _ := filepath.Glob("*.go")
	for _, f := range gofiles {
		if !strings.HasSuffix(f, "_test.go") && !strings.HasSuffix(f, "_templ.go") {
			files = append(files, f)
		}
	}
	var texts []string
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range uiText.FindAllStringSubmatch(string(src), -1) {
			lits := m[1:]
			if !strings.HasPrefix(m[0], "renderError") {
				lits = lits[:1] // the rest are placeholders' names or a nav entry
			}
			for _, lit := range lits {
				if lit == "" {
					continue
				}
				s, err := strconv.Unquote(lit)
				if err != nil {
					t.Errorf("%s: %s: %v", f, lit, err)
					continue
				}
				texts = append(texts, f+"\x00"+s)
			}
		}
	}
	for _, n := range notices {
		texts = append(texts, "notices\x00"+n)
	}
	for _, f := range web.Failures() {
		texts = append(texts, "error table\x00"+f.Title, "error table\x00"+f.Message)
		if f.FieldText != "" {
			texts = append(texts, "error table\x00"+f.FieldText)
		}
	}
	if len(texts) < 50 {
		t.Fatalf("found only %d texts: the pattern no longer matches how the UI asks for translations", len(texts))
	}
	for _, ft := range texts {
		f, s, _ := strings.Cut(ft, "\x00")
		if s != "" && !i18n.Has(s) {
			t.Errorf("%s: no translation of %q", f, s)
		}
	}
}
