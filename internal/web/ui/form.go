package ui

import (
	"context"
	"net/http"
	"regexp"
	"strings"

	"github.com/zegocloud-console/console/internal/token04"
	"github.com/zegocloud-console/console/internal/web"
	"github.com/zegocloud-console/console/internal/web/ui/i18n"
)

// readForm parses a posted form of at most 64 KiB; on failure it answers
// 400 and returns false.
func (s *Server) readForm(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, web.MaxBodyBytes)
	if err := r.ParseForm(); err != nil {
		s.renderError(w, r, http.StatusBadRequest, "Bad form", "The form could not be read. Reload the page and try again.")
		return false
	}
	return true
}

// chosenProject reads a project chosen from a list, by its AppID; msg is the
// field's error when none was chosen or the value is not an AppID.
func chosenProject(v string) (appID uint32, msg string) {
	if strings.TrimSpace(v) == "" {
		return 0, "choose a project"
	}
	id, err := token04.ParseAppID(v)
	if err != nil {
		return 0, err.Error()
	}
	return id, ""
}

// mark stands for the markup inside a translated sentence (see around).
const mark = "\x00"

// fieldPatterns are the field messages of the store and token04 that carry
// a number or a list: fieldText reads the values out of the English text
// and writes the same message in the page's language. The API answers with
// the English text.
var fieldPatterns = []struct {
	re    *regexp.Regexp
	id    string
	names []string
}{
	{regexp.MustCompile(`^must be at most (\d+) bytes \(got (\d+)\)$`), "must be at most {{.Max}} bytes (got {{.Got}})", []string{"Max", "Got"}},
	{regexp.MustCompile(`^must not exceed the project's maximum of (\d+) seconds$`), "must not exceed the project's maximum of {{.Max}} seconds", []string{"Max"}},
	{regexp.MustCompile(`^must be exactly 32 printable ASCII characters, as shown in the ZEGO console \(got (\d+) bytes\)$`),
		"must be exactly 32 printable ASCII characters, as shown in the ZEGO console (got {{.Got}} bytes)", []string{"Got"}},
	{regexp.MustCompile(`^a project with AppID (\d+) already exists$`), "a project with AppID {{.AppID}} already exists", []string{"AppID"}},
	{regexp.MustCompile(`^must be at most (\d+) characters of valid UTF-8$`), "must be at most {{.Max}} characters of valid UTF-8", []string{"Max"}},
	{regexp.MustCompile(`^must be at most (\d+) characters$`), "must be at most {{.Max}} characters", []string{"Max"}},
	{regexp.MustCompile(`^at most (\d+) stream ids$`), "at most {{.Max}} stream ids", []string{"Max"}},
	{regexp.MustCompile(`^each stream id must be 1 to (\d+) bytes of valid UTF-8$`), "each stream id must be 1 to {{.Max}} bytes of valid UTF-8", []string{"Max"}},
	{regexp.MustCompile(`^must list 1 to (\d+) tokens \(got (\d+)\)$`), "must list 1 to {{.Max}} tokens (got {{.Got}})", []string{"Max", "Got"}},
	{regexp.MustCompile(`^must be one of ([a-z0-9_, -]+)$`), "must be one of {{.List}}", []string{"List"}},
}

// fieldText is a field's message in the page's language: a fixed text by
// its English words, one with a number or a list by fieldPatterns; any
// other is shown as it is.
func fieldText(ctx context.Context, msg string) string {
	if i18n.Has(msg) {
		return t(ctx, msg)
	}
	for _, p := range fieldPatterns {
		if m := p.re.FindStringSubmatch(msg); m != nil {
			args := make([]any, 0, 2*len(p.names))
			for i, name := range p.names {
				args = append(args, name, m[i+1])
			}
			return t(ctx, p.id, args...)
		}
	}
	return msg
}
