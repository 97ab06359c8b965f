package ui

import (
	"context"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/token04"
	"github.com/zegocloud-console/console/internal/web"
)

// SinkForm is the form that creates an audit sink, as typed.
type SinkForm struct {
	Name, Kind, URL, Format, Headers, Address, ServerName, CAPEM, ClientCert, ClientKey string
	Facility, MaxMessage, Path, MaxBytes, Projects, Actions, FromSeq                    string
	Outcomes                                                                            []string
	AllowPrivate                                                                        bool
	Errors                                                                              map[string]string
}

// SinksModel is the audit sinks page: every sink with its delivery state,
// the outcome of the last action on one, and the form to add one.
type SinksModel struct {
	Sinks    []store.Sink
	Form     SinkForm
	Result   string // what a test event did
	ResultOK bool
}

// sinkList shows the sinks and the form to add one.
func (s *Server) sinkList(w http.ResponseWriter, r *http.Request) {
	s.renderSinks(w, r, http.StatusOK, SinksModel{Form: SinkForm{Kind: store.SinkWebhook}})
}

func (s *Server) renderSinks(w http.ResponseWriter, r *http.Request, status int, m SinksModel) {
	sinks, err := s.Store.ListSinks(r.Context())
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	m.Sinks = sinks
	s.render(w, r, status, s.page(r, "Audit sinks", "audit"), SinksView(m))
}

// sinkCreate adds a sink; a webhook's signing secret is shown in this
// response only, never in a URL or a later page.
func (s *Server) sinkCreate(w http.ResponseWriter, r *http.Request) {
	if !s.readForm(w, r) {
		return
	}
	v := func(name string) string { return strings.TrimSpace(r.PostFormValue(name)) }
	f := SinkForm{Name: v("name"), Kind: v("kind"), URL: v("url"), Format: v("format"), Headers: r.PostFormValue("headers"),
		Address: v("address"), ServerName: v("server_name"), CAPEM: v("ca_pem"), ClientCert: v("client_cert_pem"),
		ClientKey: r.PostFormValue("client_key_pem"), Facility: v("facility"), MaxMessage: v("max_message"), Path: v("path"),
		MaxBytes: v("max_bytes"), Projects: v("projects"), Actions: v("actions"), FromSeq: v("from_seq"),
		Outcomes: r.PostForm["outcomes"], AllowPrivate: r.PostFormValue("allow_private") == "on", Errors: map[string]string{}}
	in := store.SinkInput{Name: f.Name, Kind: f.Kind, URL: f.URL, Format: f.Format, AllowPrivate: f.AllowPrivate,
		Address: f.Address, ServerName: f.ServerName, CAPEM: f.CAPEM, ClientCert: f.ClientCert, ClientKey: strings.TrimSpace(f.ClientKey),
		Path: f.Path, Filter: store.SinkFilter{Outcomes: f.Outcomes}}
	number := func(field, raw string, dst *int64) {
		if raw == "" {
			return
		}
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil {
			f.Errors[field] = tr(r, "want a whole number")
		}
		*dst = n
	}
	var facility, maxMessage int64
	number("facility", f.Facility, &facility)
	number("max_message", f.MaxMessage, &maxMessage)
	number("max_bytes", f.MaxBytes, &in.MaxBytes)
	number("from_seq", f.FromSeq, &in.FromSeq)
	in.Facility, in.MaxMessage = int(facility), int(maxMessage)
	for _, p := range strings.FieldsFunc(f.Projects, isListSeparator) {
		id, err := token04.ParseAppID(p)
		if err != nil {
			f.Errors["filter"] = tr(r, "projects: want AppIDs separated by commas")
		}
		in.Filter.AppIDs = append(in.Filter.AppIDs, int64(id))
	}
	in.Filter.Actions = strings.FieldsFunc(f.Actions, isListSeparator)
	headers, err := store.ParseSinkHeaders(f.Headers)
	copyFieldErrors(r, f.Errors, store.FieldErrors(err))
	in.Headers = headers
	if len(f.Errors) > 0 {
		s.renderSinks(w, r, http.StatusUnprocessableEntity, SinksModel{Form: f})
		return
	}
	k, secret, err := s.Store.CreateSink(r.Context(), in, web.Actor(r), s.Origin(r))
	if fe := store.FieldErrors(err); fe != nil {
		copyFieldErrors(r, f.Errors, fe)
		s.renderSinks(w, r, http.StatusUnprocessableEntity, SinksModel{Form: f})
		return
	}
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	if secret == "" {
		seeOther(w, r, "/audit/sinks", "sink-created")
		return
	}
	s.render(w, r, http.StatusOK, s.page(r, "Audit sink created", "audit"), SinkSecretView(k, secret, false))
}

// copyFieldErrors adds the store's field messages to a form's, in the
// page's language.
func copyFieldErrors(r *http.Request, dst, fe map[string]string) {
	for field, msg := range fe {
		dst[field] = fieldText(r.Context(), msg)
	}
}

func isListSeparator(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t' }

// sinkID reads the {id} of the path, answering 404 for one that is not.
func (s *Server) sinkID(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id, err := web.SinkID(r)
	if err != nil {
		s.Fail(w, r, err)
	}
	return id, err == nil
}

// sinkPause stops a sink's deliveries; its cursor stays.
func (s *Server) sinkPause(w http.ResponseWriter, r *http.Request) {
	s.sinkSetState(store.SinkPaused, "sink-paused")(w, r)
}

// sinkResume starts a paused sink's deliveries again from its cursor.
func (s *Server) sinkResume(w http.ResponseWriter, r *http.Request) {
	s.sinkSetState(store.SinkActive, "sink-resumed")(w, r)
}

// sinkSetState pauses or resumes a sink, back to where the button was.
func (s *Server) sinkSetState(state, notice string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, ok := s.sinkID(w, r)
		if !ok || !s.readForm(w, r) {
			return
		}
		if _, err := s.Store.SetSinkState(r.Context(), id, state, web.Actor(r), s.Origin(r)); err != nil {
			s.Fail(w, r, err)
			return
		}
		seeOther(w, r, sinkReturnPath(r), notice)
	}
}

// sinkReturnPath is the page a sink button goes back to: the audit page or
// the sinks page.
func sinkReturnPath(r *http.Request) string {
	if r.PostFormValue("back") == "audit" {
		return "/audit"
	}
	return "/audit/sinks"
}

func (s *Server) sinkReplay(w http.ResponseWriter, r *http.Request) {
	id, ok := s.sinkID(w, r)
	if !ok || !s.readForm(w, r) {
		return
	}
	from, err := strconv.ParseInt(strings.TrimSpace(r.PostFormValue("from_seq")), 10, 64)
	if err != nil {
		from = 0 // refused by the store as a field error
	}
	if _, err := s.Store.ReplaySink(r.Context(), id, from, web.Actor(r), s.Origin(r)); err != nil {
		s.Fail(w, r, err)
		return
	}
	seeOther(w, r, sinkReturnPath(r), "sink-replayed")
}

// sinkTest sends a test event and shows what the receiver said.
func (s *Server) sinkTest(w http.ResponseWriter, r *http.Request) {
	id, ok := s.sinkID(w, r)
	if !ok {
		return
	}
	k, sent, err := s.TestSink(r, id)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	m := SinksModel{Form: SinkForm{Kind: store.SinkWebhook}, ResultOK: sent == nil,
		Result: tr(r, "{{.Name}} ({{.Destination}}) took the test event.", "Name", k.Name, "Destination", k.Destination())}
	if sent != nil {
		m.Result = tr(r, "{{.Name}} did not take the test event: {{.Error}}", "Name", k.Name, "Error", sent.Error())
	}
	s.renderSinks(w, r, http.StatusOK, m)
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
	seeOther(w, r, "/audit/sinks", "sink-deleted")
}

// sinkRotateSecret shows a webhook's new signing secret in this response only.
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
	k, err := s.Store.GetSink(r.Context(), id)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, s.page(r, "Signing secret rotated", "audit"), SinkSecretView(k, secret, true))
}

// sinkStateClass is the badge of a sink's state.
func sinkStateClass(state string) string {
	switch state {
	case store.SinkDisabled:
		return "badge badge-bad"
	case store.SinkPaused:
		return "badge badge-warn"
	default:
		return "badge badge-ok"
	}
}

// lagText says how far behind a sink is, in the page's language.
func lagText(ctx context.Context, k store.Sink) string {
	if k.LagEvents == 0 {
		return t(ctx, "up to date")
	}
	return t(ctx, "{{.Events}} events, oldest {{.Seconds}} s", "Events", strconv.FormatInt(k.LagEvents, 10),
		"Seconds", strconv.FormatFloat(k.LagSeconds, 'f', 0, 64))
}

// filterText describes a sink's filter in the page's language.
func filterText(ctx context.Context, f store.SinkFilter) string {
	var parts []string
	if len(f.AppIDs) > 0 {
		parts = append(parts, t(ctx, "projects {{.List}}", "List", joinIDs(f.AppIDs)))
	}
	if len(f.Actions) > 0 {
		parts = append(parts, t(ctx, "actions {{.List}}", "List", strings.Join(f.Actions, ", ")))
	}
	if len(f.Outcomes) > 0 {
		outcomes := make([]string, len(f.Outcomes))
		for i, o := range f.Outcomes {
			outcomes[i] = outcomeText(ctx, o)
		}
		parts = append(parts, t(ctx, "outcomes {{.List}}", "List", strings.Join(outcomes, t(ctx, ", "))))
	}
	if len(parts) == 0 {
		return t(ctx, "every event")
	}
	return strings.Join(parts, t(ctx, "; "))
}

// retriesExhausted is the reason the store gives for disabling a sink
// whose retries ran out.
var retriesExhausted = regexp.MustCompile(`^retries exhausted after (\d+) attempts$`)

// sinkReasonText is why the store disabled a sink, in the page's language;
// a reason it does not know is shown as it was recorded.
func sinkReasonText(ctx context.Context, reason string) string {
	if reason == "the receiver answered 410 Gone" {
		return t(ctx, "the receiver answered 410 Gone")
	}
	if m := retriesExhausted.FindStringSubmatch(reason); m != nil {
		return t(ctx, "retries exhausted after {{.Attempts}} attempts", "Attempts", m[1])
	}
	return reason
}

// sinkStateText names a sink's state in the page's language.
func sinkStateText(ctx context.Context, state string) string {
	switch state {
	case store.SinkActive:
		return t(ctx, "active")
	case store.SinkPaused:
		return t(ctx, "paused")
	case store.SinkDisabled:
		return t(ctx, "disabled")
	default:
		return state
	}
}

func (f SinkForm) hasOutcome(o string) bool {
	for _, x := range f.Outcomes {
		if x == o {
			return true
		}
	}
	return false
}
