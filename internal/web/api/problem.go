package api

import (
	"encoding/json"
	"net/http"

	"github.com/zegocloud-console/console/internal/web"
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
		Detail: detail, Instance: r.URL.Path, RequestID: web.RequestID(r), Errors: fields})
}
