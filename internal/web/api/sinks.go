package api

import (
	"net/http"

	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/web"
)

// sinkCreateJSON is the body of POST /api/v1/sinks; which fields apply
// depends on kind.
type sinkCreateJSON struct {
	Name         string            `json:"name"`
	Kind         string            `json:"kind"`
	URL          string            `json:"url"`
	Format       string            `json:"format"`
	Headers      map[string]string `json:"headers"`
	AllowPrivate bool              `json:"allow_private"`
	Address      string            `json:"address"`
	ServerName   string            `json:"server_name"`
	CAPEM        string            `json:"ca_pem"`
	ClientCert   string            `json:"client_cert_pem"`
	ClientKey    string            `json:"client_key_pem"`
	Facility     int               `json:"facility"`
	MaxMessage   int               `json:"max_message"`
	Path         string            `json:"path"`
	MaxBytes     int64             `json:"max_bytes"`
	Filter       store.SinkFilter  `json:"filter"`
	FromSeq      int64             `json:"from_seq"`
}

// sinkCreatedJSON is a new sink and, for a webhook, its signing secret,
// shown this once.
type sinkCreatedJSON struct {
	Sink   store.Sink `json:"sink"`
	Secret string     `json:"secret,omitempty"`
}

// sinkListJSON lists the sinks.
type sinkListJSON struct {
	Sinks []store.Sink `json:"sinks"`
}

// sinkReplayJSON is the body of a replay: deliver again from from_seq on.
type sinkReplayJSON struct {
	FromSeq int64 `json:"from_seq"`
}

// sinkTestJSON says whether the receiver took the test event.
type sinkTestJSON struct {
	Delivered bool   `json:"delivered"`
	Error     string `json:"error,omitempty"`
}

// sinkSecretJSON is a new webhook signing secret, shown this once.
type sinkSecretJSON struct {
	Secret string `json:"secret"`
}

func (s *Server) sinkList(w http.ResponseWriter, r *http.Request) {
	sinks, err := s.Store.ListSinks(r.Context())
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	if sinks == nil {
		sinks = []store.Sink{}
	}
	writeJSON(w, http.StatusOK, sinkListJSON{Sinks: sinks})
}

func (s *Server) sinkCreate(w http.ResponseWriter, r *http.Request) {
	var in sinkCreateJSON
	if !s.decode(w, r, &in, false) {
		return
	}
	k, secret, err := s.Store.CreateSink(r.Context(), store.SinkInput{Name: in.Name, Kind: in.Kind, URL: in.URL, Format: in.Format,
		Headers: in.Headers, AllowPrivate: in.AllowPrivate, Address: in.Address, ServerName: in.ServerName, CAPEM: in.CAPEM,
		ClientCert: in.ClientCert, ClientKey: in.ClientKey, Facility: in.Facility, MaxMessage: in.MaxMessage, Path: in.Path,
		MaxBytes: in.MaxBytes, Filter: in.Filter, FromSeq: in.FromSeq}, web.Actor(r), s.Origin(r))
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, sinkCreatedJSON{Sink: k, Secret: secret})
}

// sinkID reads the {id} of the path, answering 404 for one that is not.
func (s *Server) sinkID(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id, err := web.SinkID(r)
	if err != nil {
		s.Fail(w, r, err)
	}
	return id, err == nil
}

func (s *Server) sinkGet(w http.ResponseWriter, r *http.Request) {
	id, ok := s.sinkID(w, r)
	if !ok {
		return
	}
	k, err := s.Store.GetSink(r.Context(), id)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, k)
}

func (s *Server) sinkDelete(w http.ResponseWriter, r *http.Request) {
	id, ok := s.sinkID(w, r)
	if !ok {
		return
	}
	if err := s.Store.DeleteSink(r.Context(), id, web.Actor(r), s.Origin(r)); err != nil {
		s.Fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// sinkSetState answers pause and resume.
// sinkPause stops a sink's deliveries; its cursor stays.
func (s *Server) sinkPause(w http.ResponseWriter, r *http.Request) {
	s.sinkSetState(store.SinkPaused)(w, r)
}

// sinkResume starts a paused sink's deliveries again from its cursor.
func (s *Server) sinkResume(w http.ResponseWriter, r *http.Request) {
	s.sinkSetState(store.SinkActive)(w, r)
}

func (s *Server) sinkSetState(state string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, ok := s.sinkID(w, r)
		if !ok {
			return
		}
		k, err := s.Store.SetSinkState(r.Context(), id, state, web.Actor(r), s.Origin(r))
		if err != nil {
			s.Fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, k)
	}
}

func (s *Server) sinkReplay(w http.ResponseWriter, r *http.Request) {
	id, ok := s.sinkID(w, r)
	if !ok {
		return
	}
	var in sinkReplayJSON
	if !s.decode(w, r, &in, false) {
		return
	}
	k, err := s.Store.ReplaySink(r.Context(), id, in.FromSeq, web.Actor(r), s.Origin(r))
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, k)
}

func (s *Server) sinkTest(w http.ResponseWriter, r *http.Request) {
	id, ok := s.sinkID(w, r)
	if !ok {
		return
	}
	_, sent, err := s.TestSink(r, id)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	out := sinkTestJSON{Delivered: sent == nil}
	if sent != nil {
		out.Error = sent.Error()
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) sinkRotateSecret(w http.ResponseWriter, r *http.Request) {
	id, ok := s.sinkID(w, r)
	if !ok {
		return
	}
	secret, err := s.Store.RotateSinkSecret(r.Context(), id, web.Actor(r), s.Origin(r))
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, sinkSecretJSON{Secret: secret})
}
