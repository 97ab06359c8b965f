package i18n

import (
	"encoding/json"
	"io/fs"
	"maps"
	"path"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// catalog is one language's messages, every file of it: id → forms (for
// a message without plural forms, just "other").
func catalog(t *testing.T, lang string) map[string]map[string]string {
	t.Helper()
	files, err := fs.Glob(catalogs, "locales/*."+lang+".json")
	if err != nil || len(files) == 0 {
		t.Fatalf("catalog files of %s: %v, %v", lang, files, err)
	}
	out := map[string]map[string]string{}
	for _, f := range files {
		b, err := catalogs.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var raw map[string]json.RawMessage
		if err := json.Unmarshal(b, &raw); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for id, v := range raw {
			forms := map[string]string{}
			var s string
			if json.Unmarshal(v, &s) == nil {
				forms["other"] = s
			} else if err := json.Unmarshal(v, &forms); err != nil || forms["other"] == "" {
				t.Errorf("%s: %q is neither a text nor plural forms with \"other\": %s", f, id, v)
				continue
			}
			if prev, dup := out[id]; dup && !maps.Equal(prev, forms) {
				t.Errorf("%s: %q is in another %s file with another text", f, id, lang)
			}
			out[id] = forms
		}
	}
	return out
}

var placeholder = regexp.MustCompile(`\{\{\s*\.(\w+)\s*\}\}`)

// placeholders are the names a text fills in, sorted, each once.
func placeholders(s string) []string {
	var names []string
	for _, m := range placeholder.FindAllStringSubmatch(s, -1) {
		names = append(names, m[1])
	}
	slices.Sort(names)
	return slices.Compact(names)
}

func TestCatalogs_EveryLanguageHasEveryMessageWithTheSamePlaceholders(t *testing.T) {
	en, zh := catalog(t, "en"), catalog(t, "zh-Hans")
	for _, id := range slices.Sorted(maps.Keys(en)) {
		if _, ok := zh[id]; !ok {
			t.Errorf("zh-Hans lacks %q", id)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(zh)) {
		if _, ok := en[id]; !ok {
			t.Errorf("en lacks %q (zh-Hans has it)", id)
		}
	}
	for id, enForms := range en {
		want := placeholders(id)
		for lang, forms := range map[string]map[string]string{"en": enForms, "zh-Hans": zh[id]} {
			for form, text := range forms {
				if got := placeholders(text); !slices.Equal(got, want) && !(form == "one" && slices.Equal(got, slices.DeleteFunc(slices.Clone(want), func(s string) bool { return s == "Count" }))) {
					t.Errorf("%s %q (%s): placeholders %v, want %v as in the id", lang, id, form, got, want)
				}
				if strings.TrimSpace(text) == "" {
					t.Errorf("%s %q (%s) is empty", lang, id, form)
				}
			}
		}
	}
}

func TestCatalogs_LoadAndEveryFileNamesItsLanguage(t *testing.T) {
	if _, err := bundle(); err != nil {
		t.Fatal(err)
	}
	files, _ := fs.Glob(catalogs, "locales/*.json")
	for _, f := range files {
		base := strings.TrimSuffix(path.Base(f), ".json")
		if lang := base[strings.LastIndex(base, ".")+1:]; lang != "en" && lang != "zh-Hans" {
			t.Errorf("%s: language %q is not one of en, zh-Hans", f, lang)
		}
	}
}
