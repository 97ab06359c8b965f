package ui

import (
	"context"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/token04"
	"github.com/zegocloud-console/console/internal/web"
	"github.com/zegocloud-console/console/internal/zego"
)

// tokenPageSize is how many token records one page of the list shows.
const tokenPageSize = 50

// TokenFilterForm is the token list's filter as typed (GET parameters).
// User and Room match ids that start with them; From and To bound the
// issue time, as dates or datetime-local values in the viewer's zone.
type TokenFilterForm struct {
	AppID   string
	User    string
	Room    string
	Issuer  string
	Channel string
	State   string
	From    string
	To      string
	Sort    string
}

// Values is the filter as query parameters, empty ones left out.
func (f TokenFilterForm) Values() url.Values {
	v := url.Values{}
	for _, kv := range [][2]string{{"app_id", f.AppID}, {"user", f.User}, {"room", f.Room}, {"issuer", f.Issuer},
		{"channel", f.Channel}, {"state", f.State}, {"from", f.From}, {"to", f.To}, {"sort", f.Sort}} {
		if kv[1] != "" {
			v.Set(kv[0], kv[1])
		}
	}
	return v
}

// RevokeUserForm is the "revoke all tokens of a user" form as posted.
type RevokeUserForm struct {
	AppID  string
	UserID string
	Reason string
	Errors map[string]string
}

// RevokePastedForm is the "revoke by pasting a token" form as posted; the
// token itself is never put back into the page.
type RevokePastedForm struct {
	Reason string
	Errors map[string]string
}

// TokenList is the view model of the tokens page.
type TokenList struct {
	Projects     []store.Project
	Filter       TokenFilterForm
	Tokens       []store.TokenRecord
	Kicks        map[string][]store.Kick // the kicks of revoked tokens out of their rooms at ZEGO, by token id
	Before       string                  // the cursor of this page, "" on the first
	Next         string                  // the id to pass as before for the next page, "" on the last
	Start        int64                   // the position of the page's first token in the whole list, from 1
	Total        int64                   // how many tokens the filter selects, every page
	Now          time.Time
	CanRevoke    bool
	Error        string // why the request was refused, shown above the filters
	RevokeUser   RevokeUserForm
	RevokePasted RevokePastedForm
}

// projectName is the name of the listed project appID, "" when not listed.
func (m TokenList) projectName(appID int64) string {
	for _, p := range m.Projects {
		if p.AppID == appID {
			return p.Name
		}
	}
	return ""
}

// PageURL links to the list with the same filter, after the token before
// in its order (the next page, which starts at position start).
func (m TokenList) PageURL(before string, start int64) string {
	v := m.Filter.Values()
	if before != "" {
		v.Set("before", before)
		v.Set("start", strconv.FormatInt(start, 10))
	}
	if len(v) == 0 {
		return "/tokens"
	}
	return "/tokens?" + v.Encode()
}

// tokenFilterOf reads the token list's filter from the query: the form as
// typed, and the store's filter (limited to the person's projects). msg
// says what is wrong with it; ok is false when the project is beyond the
// person's grant (already answered).
func (s *Server) tokenFilterOf(w http.ResponseWriter, r *http.Request) (form TokenFilterForm, f store.TokenFilter, msg string, ok bool) {
	q := r.URL.Query()
	form = TokenFilterForm{AppID: strings.TrimSpace(q.Get("app_id")), User: strings.TrimSpace(q.Get("user")),
		Room: strings.TrimSpace(q.Get("room")), Issuer: strings.TrimSpace(q.Get("issuer")), Channel: q.Get("channel"),
		State: q.Get("state"), From: strings.TrimSpace(q.Get("from")), To: strings.TrimSpace(q.Get("to")), Sort: q.Get("sort")}
	f = store.TokenFilter{UserIDPrefix: form.User, RoomIDPrefix: form.Room, IssuedBy: form.Issuer, Channel: form.Channel,
		State: form.State, Sort: form.Sort, AppIDs: web.PrincipalOf(r).AppIDsFor(web.ActView)}
	loc := zoneOf(r.Context()).loc
	var bad []string
	for _, b := range []struct {
		typed string
		dst   *time.Time
		end   bool
		wrong string // the message when typed is not a date
	}{{form.From, &f.IssuedFrom, false, tr(r, "issued from: want a date such as 2025-05-01 or 2025-05-01T13:30")},
		{form.To, &f.IssuedTo, true, tr(r, "issued to: want a date such as 2025-05-01 or 2025-05-01T13:30")}} {
		if b.typed == "" {
			continue
		}
		at, ok := parseLocalBound(b.typed, loc, b.end)
		if !ok {
			bad = append(bad, b.wrong)
		}
		*b.dst = at
	}
	if form.AppID != "" {
		id, err := token04.ParseAppID(form.AppID)
		if err != nil {
			bad = append(bad, tr(r, "project: want a ZEGO AppID, a whole number from 1 to 4294967295"))
		} else if f.AppID = id; !s.allowApp(w, r, web.ActView, f.AppID) {
			return form, f, "", false
		}
	}
	return form, f, strings.Join(bad, "; "), true
}

// tokenList shows the issued tokens, filtered, in the chosen order (newest
// first by default), with keyset pagination on the record id and the total.
func (s *Server) tokenList(w http.ResponseWriter, r *http.Request) {
	form, f, msg, ok := s.tokenFilterOf(w, r)
	if !ok {
		return
	}
	m := TokenList{Filter: form, Before: strings.TrimSpace(r.URL.Query().Get("before")), Start: 1, Error: msg}
	if n, err := strconv.ParseInt(r.URL.Query().Get("start"), 10, 64); err == nil && n > 1 && m.Before != "" {
		m.Start = n
	}
	if msg != "" {
		s.renderTokens(w, r, http.StatusBadRequest, m)
		return
	}
	recs, err := s.Store.ListTokens(r.Context(), f, m.Before, tokenPageSize+1)
	if err == nil {
		m.Total, err = s.Store.CountTokens(r.Context(), f)
	}
	if fe := store.FieldErrors(err); fe != nil {
		m.Error = joinFieldErrors(r.Context(), fe)
		s.renderTokens(w, r, http.StatusBadRequest, m)
		return
	}
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	m.setPage(recs)
	s.renderTokens(w, r, http.StatusOK, m)
}

// SortURL links to the list with the same filter in order sort, from the
// first page.
func (m TokenList) SortURL(sort string) string {
	f := m.Filter
	f.Sort = sort
	if sort == store.TokenSortNewest {
		f.Sort = ""
	}
	return "/tokens?" + f.Values().Encode()
}

// ExportURL is the CSV export of the list's filter, every page.
func (m TokenList) ExportURL() string {
	f := m.Filter
	f.Sort = ""
	return "/tokens/export?" + f.Values().Encode()
}

// sortState is a column's aria-sort: ascending, descending or none.
func sortState(sort, first, again string) string {
	switch sort {
	case first, again:
		if strings.HasPrefix(sort, "-") {
			return "descending"
		}
		return "ascending"
	}
	return "none"
}

// sortArrow shows the direction of an order: ↓ newest or latest first.
func sortArrow(sort string) string { return ifThen(strings.HasPrefix(sort, "-"), "↓", "↑") }

// Showing says which part of the list the page shows: "Tokens 1–50 of 1,234".
func (m TokenList) Showing(ctx context.Context) string {
	if len(m.Tokens) == 0 {
		return t(ctx, "Tokens 0 of {{.Total}}", "Total", num(ctx, m.Total))
	}
	return t(ctx, "Tokens {{.First}}–{{.Last}} of {{.Total}}", "First", num(ctx, m.Start),
		"Last", num(ctx, m.Start+int64(len(m.Tokens))-1), "Total", num(ctx, m.Total))
}

// setPage shows a page of records read with one more than the page holds:
// the extra one only says that a next page exists.
func (m *TokenList) setPage(recs []store.TokenRecord) {
	if len(recs) > tokenPageSize {
		recs = recs[:tokenPageSize]
		m.Next = recs[len(recs)-1].ID
	}
	m.Tokens = recs
}

// renderTokens completes the model (projects, role, clock) and renders the
// tokens page with status.
func (s *Server) renderTokens(w http.ResponseWriter, r *http.Request, status int, m TokenList) {
	projects, err := s.listProjects(r, web.ActView)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	var revoked []string
	for _, t := range m.Tokens {
		if t.RevokedAt != nil {
			revoked = append(revoked, t.ID)
		}
	}
	if m.Kicks, err = s.Store.TokenKicks(r.Context(), revoked); err != nil {
		s.Fail(w, r, err)
		return
	}
	m.Projects, m.Now, m.CanRevoke = projects, time.Now(), canRevoke(r)
	s.render(w, r, status, s.page(r, "Tokens", "tokens"), TokenListView(m))
}

// utcString shows a time in UTC to the second.
func utcString(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") }

// hexString is bytes in lowercase hex.
func hexString(b []byte) string { return hex.EncodeToString(b) }

// fingerprintPrefix is the first 12 hex digits of a fingerprint: enough to
// recognise a token in a list.
func fingerprintPrefix(b []byte) string {
	if len(b) > 6 {
		b = b[:6]
	}
	return hex.EncodeToString(b)
}

// appIDString formats an AppID.
func appIDString(id int64) string { return strconv.FormatInt(id, 10) }

// revokedNote says who revoked a token and why, in the page's language.
func revokedNote(ctx context.Context, by, reason *string) string {
	name := orAny(derefString(by), t(ctx, "unknown"))
	if r := derefString(reason); r != "" {
		return t(ctx, "by {{.Name}}: {{.Reason}}", "Name", name, "Reason", r)
	}
	return t(ctx, "by {{.Name}}", "Name", name)
}

// kickTitle says where each kick of a token is, with ZEGO's last answer.
func kickTitle(ctx context.Context, kicks []store.Kick) string {
	parts := make([]string, len(kicks))
	for i, k := range kicks {
		p := tn(ctx, "{{.Product}} room {{.Room}}: {{.State}} after {{.Count}} attempt(s)", int64(k.Attempts),
			"Product", t(ctx, zego.ServiceName(k.Service)), "Room", strconv.Quote(k.RoomID), "State", t(ctx, k.Status))
		if k.Code != nil {
			p += ", Code " + strconv.FormatInt(*k.Code, 10)
		}
		if k.Message != "" {
			p += " " + strconv.Quote(k.Message)
		}
		if k.RequestID != "" {
			p += ", RequestId " + k.RequestID
		}
		parts[i] = p
	}
	return strings.Join(parts, "; ")
}

// kickLabel is a token's kick state as its badge says it: "kick done".
func kickLabel(ctx context.Context, state string) string {
	switch state {
	case store.KickDone:
		return t(ctx, "kick done")
	case store.KickFailed:
		return t(ctx, "kick failed")
	case store.KickQueued:
		return t(ctx, "kick queued")
	}
	return "kick " + state
}

// kickBadge is the badge class of a kick state.
func kickBadge(state string) string {
	switch state {
	case store.KickDone:
		return "badge badge-ok"
	case store.KickFailed:
		return "badge badge-bad"
	}
	return "badge badge-warn"
}

// tokenRecordURL is the token's row in the tokens list: its project and
// user's tokens, scrolled to it (the row's id). notice, when not "", is the
// one-line message shown above.
func tokenRecordURL(rec store.TokenRecord, notice string) string {
	v := url.Values{"app_id": {appIDString(rec.AppID)}, "user": {rec.UserID}}
	if notice != "" {
		v.Set("notice", notice)
	}
	return "/tokens?" + v.Encode() + "#token-" + rec.ID
}

// tokenRevokeURL is where a row's revoke form posts.
func tokenRevokeURL(rec store.TokenRecord) string {
	return fmt.Sprintf("/projects/%d/tokens/%s/revoke", rec.AppID, url.PathEscape(rec.ID))
}
