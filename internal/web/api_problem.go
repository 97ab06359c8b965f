package web

import (
	"encoding/json"
	"net/http"

	"github.com/zegocloud-console/console/internal/store"
)

// problemTypePrefix makes the stable problem type URIs of the API.
const problemTypePrefix = "urn:zego-console:problem:"

// Problem is an RFC 9457 problem details object.
type Problem struct {
	Type      string            `json:"type"`
	Title     string            `json:"title"`
	Status    int               `json:"status"`
	Detail    string            `json:"detail"`
	Instance  string            `json:"instance,omitempty"`
	RequestID string            `json:"request_id,omitempty"`
	Errors    map[string]string `json:"errors,omitempty"`
}

// problem writes an application/problem+json response.
func (s *Server) problem(w http.ResponseWriter, r *http.Request, status int, slug, detail string, fields map[string]string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(Problem{Type: problemTypePrefix + slug, Title: http.StatusText(status), Status: status,
		Detail: detail, Instance: r.URL.Path, RequestID: requestID(r), Errors: fields})
}

// apiFail answers a store error as a problem; only validation errors carry
// their own text (it names fields and rules, never secrets).
func (s *Server) apiFail(w http.ResponseWriter, r *http.Request, err error) {
	status, slug := statusFor(err)
	if status >= 500 {
		s.log.Error("api request failed", "request_id", requestID(r), "route", r.Pattern, "err", err)
	}
	detail := map[string]string{
		"validation":       "The request has invalid fields; see errors.",
		"not-found":        "No such resource.",
		"project-disabled": "The project is disabled.",
		"forbidden":        "This API key may not do this.",
		"unavailable":      "The console could not reach its database; nothing was changed or issued. Retry later.",
		"cancelled":        "The request was cancelled.",
		"internal":         "The console could not complete the request; nothing was issued.",
	}[slug]
	s.problem(w, r, status, slug, detail, fieldErrorsOf(err))
}

func fieldErrorsOf(err error) map[string]string {
	return store.FieldErrors(err)
}
