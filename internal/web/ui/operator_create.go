package ui

import (
	"maps"
	"net/http"
	"strings"

	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/web"
)

// operatorCreate adds a person (an admin, operator or auditor) with an
// initial password.
func (s *Server) operatorCreate(w http.ResponseWriter, r *http.Request) {
	if !s.readForm(w, r) {
		return
	}
	f := OperatorForm{Username: strings.TrimSpace(r.PostFormValue("username")),
		DisplayName: strings.TrimSpace(r.PostFormValue("display_name")), Role: r.PostFormValue("role"), Errors: map[string]string{}}
	in := store.OperatorInput{Username: f.Username, DisplayName: f.DisplayName, Role: f.Role, Password: r.PostFormValue("password")}
	_, err := s.Store.CreateOperator(r.Context(), in, web.Actor(r), s.Origin(r))
	if fe := store.FieldErrors(err); fe != nil {
		maps.Copy(f.Errors, fe)
		s.renderOperators(w, r, http.StatusUnprocessableEntity, OperatorsModel{Form: f})
		return
	}
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	seeOther(w, r, "/operators", f.Role+"-added") // the store accepted the role: one of the three notices
}
