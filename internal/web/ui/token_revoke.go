package ui

import (
	"errors"
	"net/http"
	"strings"

	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/token04"
	"github.com/zegocloud-console/console/internal/web"
)

// tokenRevoke revokes one token by its record id.
func (s *Server) tokenRevoke(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, web.MaxBodyBytes)
	appID, err := token04.ParseAppID(r.PathValue("appID"))
	if err != nil {
		s.Fail(w, r, store.ErrTokenNotFound)
		return
	}
	if !s.allowApp(w, r, web.ActRevoke, appID) {
		return
	}
	_, err = s.Store.RevokeToken(r.Context(), appID, strings.ToLower(r.PathValue("id")), strings.TrimSpace(r.PostFormValue("reason")), web.Actor(r), s.Origin(r))
	if fe := store.FieldErrors(err); fe != nil {
		s.reshowTokens(w, r, web.FailureOf(err).Status, TokenList{Error: "The token was not revoked: " + joinFieldErrors(fe)})
		return
	}
	if err != nil {
		s.failAs(w, r, err, "The token was not revoked.")
		return
	}
	http.Redirect(w, r, "/tokens?notice=token-revoked", http.StatusSeeOther)
}

// tokenRevokeUser revokes every active token of a user in a project.
func (s *Server) tokenRevokeUser(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, web.MaxBodyBytes)
	f := RevokeUserForm{AppID: strings.TrimSpace(r.PostFormValue("app_id")), UserID: strings.TrimSpace(r.PostFormValue("user_id")),
		Reason: strings.TrimSpace(r.PostFormValue("reason")), Errors: map[string]string{}}
	appID, msg := chosenProject(f.AppID)
	if msg != "" {
		f.Errors["app_id"] = msg
		s.reshowTokens(w, r, http.StatusUnprocessableEntity, TokenList{RevokeUser: f})
		return
	}
	if !s.allowApp(w, r, web.ActRevoke, appID) {
		return
	}
	res, err := s.Store.RevokeUserTokens(r.Context(), appID, f.UserID, f.Reason, web.Actor(r), s.Origin(r))
	if fe := web.FieldErrors(err); fe != nil {
		f.Errors = fe
		s.reshowTokens(w, r, web.FailureOf(err).Status, TokenList{RevokeUser: f})
		return
	} else if err != nil {
		s.failAs(w, r, err, "No token was revoked.")
		return
	}
	notice := "tokens-revoked"
	if res.Revoked == 0 {
		notice = "no-tokens-revoked"
	}
	v := TokenFilterForm{AppID: f.AppID, User: f.UserID}.Values()
	http.Redirect(w, r, "/tokens?notice="+notice+"&"+v.Encode(), http.StatusSeeOther)
}

// tokenRevokePasted revokes the token pasted into the form, found by its
// SHA-256 fingerprint; the token is never written anywhere nor echoed.
func (s *Server) tokenRevokePasted(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, web.MaxBodyBytes)
	token := token04.CleanPasted(r.PostFormValue("token"))
	f := RevokePastedForm{Reason: strings.TrimSpace(r.PostFormValue("reason")), Errors: map[string]string{}}
	if token == "" {
		f.Errors["token"] = "paste the token to revoke"
		s.reshowTokens(w, r, http.StatusUnprocessableEntity, TokenList{RevokePasted: f})
		return
	}
	fp := token04.FingerprintSum(token)
	allowed := func(appID uint32) bool { return may(r, web.ActRevoke, appID) }
	rec, err := s.Store.RevokeByFingerprint(r.Context(), fp[:], f.Reason, allowed, web.Actor(r), s.Origin(r))
	if errors.Is(err, store.ErrForbidden) {
		// A token of a project beyond the grant: as if it were not issued here.
		if derr := s.Deny(r, "token of a project outside the person's grant", web.WithApp(uint32(rec.AppID))); derr != nil {
			s.Fail(w, r, derr)
			return
		}
		err = store.ErrTokenNotFound
	}
	if fe := web.FieldErrors(err); fe != nil {
		f.Errors = fe
		s.reshowTokens(w, r, web.FailureOf(err).Status, TokenList{RevokePasted: f})
		return
	} else if err != nil {
		s.failAs(w, r, err, "The token was not revoked.")
		return
	}
	http.Redirect(w, r, "/tokens?notice=token-revoked", http.StatusSeeOther)
}

// reshowTokens renders the tokens page again after a refused revocation,
// with the newest tokens listed and m's messages beside the forms.
func (s *Server) reshowTokens(w http.ResponseWriter, r *http.Request, status int, m TokenList) {
	recs, err := s.Store.ListTokens(r.Context(), store.TokenFilter{AppIDs: web.PrincipalOf(r).AppIDsFor(web.ActView)}, "", tokenPageSize+1)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	m.setPage(recs)
	s.renderTokens(w, r, status, m)
}

// derefString is *p, or "" for nil.
func derefString(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
