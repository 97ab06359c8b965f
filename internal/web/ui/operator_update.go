package ui

import (
	"net/http"

	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/web"
)

// operatorSetRole changes an operator's role; the last enabled admin keeps theirs.
func (s *Server) operatorSetRole(w http.ResponseWriter, r *http.Request) {
	id, ok := s.idFromPath(w, r)
	if !ok || !s.readForm(w, r) {
		return
	}
	_, err := s.Store.SetOperatorRole(r.Context(), id, r.PostFormValue("role"), web.Actor(r), s.Origin(r))
	s.operatorChanged(w, r, id, err, "Role not changed for {{.Name}}:", "operator-updated")
}

// operatorDisable stops an operator from signing in and ends their sessions.
func (s *Server) operatorDisable(w http.ResponseWriter, r *http.Request) {
	s.setOperatorDisabled(w, r, true)
}

// operatorEnable lets a disabled operator sign in again.
func (s *Server) operatorEnable(w http.ResponseWriter, r *http.Request) {
	s.setOperatorDisabled(w, r, false)
}

func (s *Server) setOperatorDisabled(w http.ResponseWriter, r *http.Request, disabled bool) {
	id, ok := s.idFromPath(w, r)
	if !ok {
		return
	}
	_, err := s.Store.SetOperatorDisabled(r.Context(), id, disabled, web.Actor(r), s.Origin(r))
	if disabled {
		s.operatorChanged(w, r, id, err, "Not disabled for {{.Name}}:", "operator-disabled")
		return
	}
	s.operatorChanged(w, r, id, err, "Not enabled for {{.Name}}:", "operator-enabled")
}

// operatorResetPassword sets a new password and ends the operator's sessions.
func (s *Server) operatorResetPassword(w http.ResponseWriter, r *http.Request) {
	id, ok := s.idFromPath(w, r)
	if !ok || !s.readForm(w, r) {
		return
	}
	err := s.Store.ResetOperatorPassword(r.Context(), id, r.PostFormValue("password"), web.Actor(r), s.Origin(r))
	s.operatorChanged(w, r, id, err, "Password not changed for {{.Name}}:", "operator-password-reset")
}

// operatorChanged finishes a change to operator id: back to the list with
// notice, or the list with why the change was refused (422): refused (a
// message id with the person's {{.Name}}), then each reason, in the page's
// language.
func (s *Server) operatorChanged(w http.ResponseWriter, r *http.Request, id int64, err error, refused, notice string) {
	fe := store.FieldErrors(err)
	if fe == nil && err != nil {
		s.Fail(w, r, err)
		return
	}
	if fe == nil {
		seeOther(w, r, "/operators", notice)
		return
	}
	who := tr(r, "the operator")
	if op, lerr := s.Store.OperatorByID(r.Context(), id); lerr == nil {
		who = op.Username
	}
	msg := tr(r, refused, "Name", who)
	for field, reason := range fe {
		reason = tr(r, reason)
		if field == "password" {
			reason = tr(r, "the password {{.Reason}}", "Reason", reason)
		}
		msg = tr(r, "{{.A}} {{.B}}", "A", msg, "B", tr(r, "{{.Reason}}.", "Reason", reason))
	}
	s.renderOperators(w, r, http.StatusUnprocessableEntity, OperatorsModel{Form: OperatorForm{Role: store.RoleOperator}, Alert: msg})
}
