package api

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/web"
)

// introspectRequest is the body of POST /api/v1/tokens/introspect.
type introspectRequest struct {
	Token         string `json:"token,omitzero"`
	TokenTypeHint string `json:"token_type_hint,omitzero"` // RFC 7662 §2.1; there is one type of token, so it is ignored
}

// introspectionJSON answers an introspection like RFC 7662. An inactive
// token gets active, reason, revoked and issued_here, plus its claims only
// when they verified with a secret of one of the key's projects; the room
// fields appear only for tokens that carry room privileges.
type introspectionJSON struct {
	Active     bool      `json:"active"`
	Reason     string    `json:"reason,omitempty"`
	AppID      *uint32   `json:"app_id,omitempty"`
	Sub        *string   `json:"sub,omitempty"`
	Iat        *int64    `json:"iat,omitempty"`
	Exp        *int64    `json:"exp,omitempty"`
	Mode       string    `json:"mode,omitempty"`
	RoomID     *string   `json:"room_id,omitempty"`
	Privileges *[]string `json:"privileges,omitempty"`
	StreamIDs  *[]string `json:"stream_ids,omitempty"`
	Revoked    bool      `json:"revoked"`
	TokenID    string    `json:"token_id,omitempty"`
	IssuedHere bool      `json:"issued_here"`
	// The standard names of RFC 7662 beside the console's: the token id, the
	// AppID as a string, the privileges as a space-separated list.
	JTI      string `json:"jti,omitempty"`
	ClientID string `json:"client_id,omitempty"`
	Scope    string `json:"scope,omitempty"`
}

// inactiveJSON is the bare answer RFC 7662 §2.2 recommends for an inactive
// token, for clients that ask with ?inactive=bare.
type inactiveJSON struct {
	Active bool `json:"active"`
}

// tokenIntrospect tells whether a presented token is active, looking only
// at the projects the key may introspect; the inspection is audited with
// the token's fingerprint.
func (s *Server) tokenIntrospect(w http.ResponseWriter, r *http.Request) {
	bare, ok := s.inactiveBare(w, r)
	if !ok {
		return
	}
	var body introspectRequest
	if !s.decodeTokenRequest(w, r, &body) || !s.requireToken(w, r, body.Token) {
		return
	}
	p := web.PrincipalOf(r)
	in, err := s.Store.Introspect(r.Context(), body.Token, store.IntrospectOptions{
		Allowed: func(appID uint32) bool { return web.Can(p, web.ActInspect, appID) },
		Action:  "token.introspect", Actor: web.Actor(r), Origin: s.Origin(r),
	})
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	if bare && !in.Active {
		writeJSON(w, http.StatusOK, inactiveJSON{})
		return
	}
	writeJSON(w, http.StatusOK, introspectionOf(in))
}

// inactiveBare reads ?inactive=: details (the default) or bare.
func (s *Server) inactiveBare(w http.ResponseWriter, r *http.Request) (bare, ok bool) {
	q := r.URL.Query()
	for name, values := range q {
		if name != "inactive" || len(values) != 1 || (values[0] != "details" && values[0] != "bare") {
			s.problem(w, r, http.StatusBadRequest, "bad-filter", "The query has invalid parameters; see errors.",
				map[string]string{name: "the only parameter is inactive, details or bare, once"})
			return false, false
		}
	}
	return q.Get("inactive") == "bare", true
}

func introspectionOf(in store.Introspection) introspectionJSON {
	out := introspectionJSON{Active: in.Active, Reason: in.Reason, Revoked: in.Revoked(), IssuedHere: in.IssuedHere()}
	if in.Record != nil {
		out.TokenID, out.JTI = in.Record.ID, in.Record.ID
	}
	if in.Decoded == nil {
		return out
	}
	c := in.Decoded.Claims
	appID, sub, iat, exp := c.AppID, c.UserID, c.CTime, c.Expire
	out.AppID, out.Sub, out.Iat, out.Exp, out.Mode = &appID, &sub, &iat, &exp, in.Decoded.Mode.String()
	out.ClientID = strconv.FormatUint(uint64(appID), 10)
	if in.Active && in.Privilege != nil {
		p := in.Privilege
		var names []string
		if p.Login {
			names = append(names, "login")
		}
		if p.Publish {
			names = append(names, "publish")
		}
		names, streams := nonNil(names), nonNil(p.StreamIDs)
		out.RoomID, out.Privileges, out.StreamIDs, out.Scope = &p.RoomID, &names, &streams, strings.Join(names, " ")
	}
	return out
}

// requireToken answers a request that presents no token with a validation
// problem on field token.
func (s *Server) requireToken(w http.ResponseWriter, r *http.Request, token string) bool {
	if token == "" {
		s.Fail(w, r, &store.ValidationError{Fields: map[string]string{"token": "is required"}})
		return false
	}
	return true
}
