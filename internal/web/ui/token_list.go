package ui

import (
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"slices"
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
type TokenFilterForm struct {
	AppID  string
	User   string
	Room   string
	Issuer string
	State  string
}

// Values is the filter as query parameters, empty ones left out.
func (f TokenFilterForm) Values() url.Values {
	v := url.Values{}
	for _, kv := range [][2]string{{"app_id", f.AppID}, {"user", f.User}, {"room", f.Room}, {"issuer", f.Issuer}, {"state", f.State}} {
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
	Next         string                  // the id to pass as before for the older page, "" on the last
	Now          time.Time
	CanRevoke    bool
	Error        string // why the request was refused, shown above the filters
	RevokeUser   RevokeUserForm
	RevokePasted RevokePastedForm
}

// PageURL links to the list with the same filter, older than before.
func (m TokenList) PageURL(before string) string {
	v := m.Filter.Values()
	if before != "" {
		v.Set("before", before)
	}
	if len(v) == 0 {
		return "/tokens"
	}
	return "/tokens?" + v.Encode()
}

// tokenList shows the issued tokens, filtered, newest first, with keyset
// pagination on the record id.
func (s *Server) tokenList(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	m := TokenList{Filter: TokenFilterForm{AppID: strings.TrimSpace(q.Get("app_id")), User: strings.TrimSpace(q.Get("user")),
		Room: strings.TrimSpace(q.Get("room")), Issuer: strings.TrimSpace(q.Get("issuer")), State: q.Get("state")},
		Before: strings.TrimSpace(q.Get("before"))}
	f := store.TokenFilter{UserID: m.Filter.User, RoomID: m.Filter.Room, IssuedBy: m.Filter.Issuer, State: m.Filter.State}
	if m.Filter.AppID != "" {
		id, err := token04.ParseAppID(m.Filter.AppID)
		if err != nil {
			m.Error = "project: want a ZEGO AppID, a whole number from 1 to 4294967295"
			s.renderTokens(w, r, http.StatusBadRequest, m)
			return
		}
		f.AppID = uint32(id)
		if !s.allowApp(w, r, web.ActView, f.AppID) {
			return
		}
	}
	f.AppIDs = web.PrincipalOf(r).AppIDsFor(web.ActView)
	recs, err := s.Store.ListTokens(r.Context(), f, m.Before, tokenPageSize+1)
	if fe := store.FieldErrors(err); fe != nil {
		m.Error = joinFieldErrors(fe)
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

// joinFieldErrors turns field messages into one line, in a stable order.
func joinFieldErrors(fe map[string]string) string {
	names := make([]string, 0, len(fe))
	for n := range fe {
		names = append(names, n)
	}
	slices.Sort(names)
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = n + ": " + fe[n]
	}
	return strings.Join(parts, "; ")
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

// revokedNote says who revoked a token and why, as one line of text:
// "by otto: lesson over".
func revokedNote(by, reason *string) string {
	note := "by " + orAny(derefString(by), "unknown")
	if r := derefString(reason); r != "" {
		note += ": " + r
	}
	return note
}

// kickTitle says where each kick of a token is, with ZEGO's last answer.
func kickTitle(kicks []store.Kick) string {
	parts := make([]string, len(kicks))
	for i, k := range kicks {
		p := zego.ServiceName(k.Service) + " room " + strconv.Quote(k.RoomID) + ": " + k.Status + " after " +
			strconv.Itoa(k.Attempts) + " attempt(s)"
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

// tokenRevokeURL is where a row's revoke form posts.
func tokenRevokeURL(rec store.TokenRecord) string {
	return fmt.Sprintf("/projects/%d/tokens/%s/revoke", rec.AppID, url.PathEscape(rec.ID))
}
