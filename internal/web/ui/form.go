package ui

import (
	"context"
	"net/http"
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

// mark stands for the markup inside a translated sentence: one piece of
// markup (around), or words set apart on both sides (marker, withCode).
const mark = "\x00"

// marker sets a word apart in a translated sentence, so that the page can
// write it as code where the sentence (in any language) puts it: give
// marker("chain_seq") as a placeholder's value, then withCode.
func marker(s string) string { return mark + s + mark }

// markedPart is a piece of a sentence: plain text, or a word set apart by marker.
type markedPart struct {
	Text   string
	Marked bool
}

// markedParts cuts a translated sentence at its markers.
func markedParts(s string) []markedPart {
	var parts []markedPart
	for i, p := range strings.Split(s, mark) {
		if p != "" {
			parts = append(parts, markedPart{Text: p, Marked: i%2 == 1})
		}
	}
	return parts
}

// fieldMessages are the field messages of internal/store and token04 that
// carry a value (a number, a name, a list, an address), as message ids
// whose English words fieldText reads the values back out of (readBack).
// The API answers with the English text.
var fieldMessages = readBack(
	"must be at most {{.Max}} bytes (got {{.Got}})",
	"must not exceed the project's maximum of {{.Max}} seconds",
	"must be exactly 32 printable ASCII characters, as shown in the ZEGO console (got {{.Got}} bytes)",
	"a project with AppID {{.AppID}} already exists",
	"must be at most {{.Max}} characters of valid UTF-8",
	"must be at most {{.Max}} characters",
	"at most {{.Max}} stream ids",
	"each stream id must be 1 to {{.Max}} bytes of valid UTF-8",
	"must list 1 to {{.Max}} tokens (got {{.Got}})",
	"must be one of {{.List}}",
	// the sink and audit filter rules
	"longer than {{.A}} characters",
	"does not apply to a {{.A}} sink",
	"at most {{.A}} headers",
	"{{.A}} is not a header name",
	"{{.A}} is set by the console",
	"the value of {{.A}} must be one line of at most 4096 bytes",
	"want {{.A}} to {{.B}} bytes",
	"app id {{.A}} is not a ZEGO AppID",
	"action {{.A}}: want an action such as token.issue, or a prefix such as token.*",
	"outcome {{.A}}: want success, denied or error",
	"this text is too common to search in time; add a project, an action or a shorter time range (without one, free text searches the last {{.A}} days), or a longer, rarer text",
	"line {{.A}}: want 'Name: value'",
	"destination refused: {{.A}} is a cloud metadata address",
	"destination refused: {{.A}} is a link-local address",
	"destination refused: {{.A}} is not a unicast address",
	"destination refused: {{.A}} is a loopback or private address; allow private ranges for this sink if it is meant",
	"{{.A}} resolves to a refused address: destination refused: {{.B}} is a cloud metadata address",
	"{{.A}} resolves to a refused address: destination refused: {{.B}} is a link-local address",
	"{{.A}} resolves to a refused address: destination refused: {{.B}} is not a unicast address",
	"{{.A}} resolves to a refused address: destination refused: {{.B}} is a loopback or private address; allow private ranges for this sink if it is meant",
)

// fieldText is a field's message in the page's language: a fixed text by
// its English words, one with a value by fieldMessages; any other is shown
// as it is.
func fieldText(ctx context.Context, msg string) string {
	if i18n.Has(msg) {
		return t(ctx, msg)
	}
	return fieldMessages.text(ctx, msg)
}
