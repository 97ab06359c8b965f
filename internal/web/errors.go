package web

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/zegocloud-console/console/internal/store"
)

// A Failure is how the console answers one kind of error, in the UI and the
// API alike: one status and problem type, the API's detail, the UI's page
// title and text, and, where the error belongs to one form field, that field
// and the text shown beside it. Texts never include the error's own text,
// which might name internals.
type Failure struct {
	Status    int
	Type      string // problem type slug: urn:zego-console:problem:<Type>
	Detail    string // the API's problem detail
	Title     string // the UI's error page title
	Message   string // the UI's error page text (for a 5xx, the page adds what did not happen)
	Field     string // the form or JSON field the error belongs to, if any
	FieldText string // the text beside that field
}

// StatusClientClosed is the status logged when the client went away first.
const StatusClientClosed = 499

// failures is the error table: the first entry whose test matches wins.
var failures = []struct {
	is      func(error) bool
	failure Failure
}{
	{isErr(store.ErrIdempotencyInFlight), Failure{Status: http.StatusConflict, Type: "idempotency-key-in-use",
		Detail: "A request with this Idempotency-Key is still being processed; retry once it has finished.",
		Title:  "Request in progress", Message: "The same request is still being processed."}},
	{isErr(store.ErrIdempotencyMismatch), Failure{Status: http.StatusUnprocessableEntity, Type: "idempotency-key-reused",
		Detail: "This Idempotency-Key was used for another request in the last 24 hours; use a new key for a new request.",
		Title:  "Key reused", Message: "This request reuses the key of another one."}},
	{func(err error) bool { return store.FieldErrors(err) != nil }, Failure{Status: http.StatusUnprocessableEntity, Type: "validation",
		Detail: "The request has invalid fields; see errors.",
		Title:  "Invalid input", Message: "Some fields are not valid, so nothing was changed. Go back, correct them and try again."}},
	{isErr(store.ErrProjectNotFound), Failure{Status: http.StatusNotFound, Type: "not-found", Detail: "No such resource.",
		Title: "Project not found", Message: "There is no such project. It may have been deleted.",
		Field: "app_id", FieldText: "there is no such project; choose one from the list"}},
	{isErr(store.ErrTokenNotFound), Failure{Status: http.StatusNotFound, Type: "not-found", Detail: "No such resource.",
		Title: "Not found", Message: "There is nothing here. It may have been deleted.",
		Field: "token", FieldText: "This token was not issued here, so there is nothing to revoke. A token issued elsewhere can only be stopped at ZEGO by rotating the project's ServerSecret."}},
	{isErr(store.ErrOperatorNotFound, store.ErrAPIKeyNotFound, store.ErrSinkNotFound), Failure{Status: http.StatusNotFound, Type: "not-found", Detail: "No such resource.",
		Title: "Not found", Message: "There is nothing here. It may have been deleted."}},
	{isErr(store.ErrProjectDisabled), Failure{Status: http.StatusConflict, Type: "project-disabled", Detail: "The project is disabled.",
		Title: "Project disabled", Message: "This project is disabled: enable it on its page before issuing tokens.",
		Field: "app_id", FieldText: "this project is disabled: an admin must enable it before tokens can be issued"}},
	{isErr(store.ErrProjectDeleted), Failure{Status: http.StatusConflict, Type: "project-deleted",
		Detail: "The project was deleted while the token was being issued; nothing was issued.",
		Title:  "Project deleted", Message: "This project was deleted while the token was being issued, so no token was issued.",
		Field: "app_id", FieldText: "this project was deleted while the token was being issued: no token was issued"}},
	{isErr(store.ErrSecretRotated), Failure{Status: http.StatusConflict, Type: "secret-rotated",
		Detail: "The project's ServerSecret was rotated while the token was being issued; nothing was issued. Issue again for a token sealed with the new secret.",
		Title:  "ServerSecret rotated", Message: "The project's ServerSecret was rotated while this token was being issued, so none was issued. Issue it again: it will be sealed with the new secret.",
		Field: "app_id", FieldText: "the ServerSecret was rotated while the token was being issued: issue again for a token sealed with the new one"}},
	{isErr(store.ErrTOTPEnrolled, store.ErrNoTOTPPending, store.ErrNoSecondFactor), Failure{Status: http.StatusConflict, Type: "conflict",
		Detail: "The second factor is not in the state this request needs.",
		Title:  "Nothing to do", Message: "Your second factors changed meanwhile (in another tab, perhaps). Open My account to see where they stand."}},
	{isErr(ErrCrossOrigin), Failure{Status: http.StatusForbidden, Type: "forbidden", Detail: "Cross-origin browser requests are refused.",
		Title: "Cross-origin request refused", Message: "This request came from another site, so the console refused it. Nothing was changed."}},
	{isErr(store.ErrForbidden), Failure{Status: http.StatusForbidden, Type: "forbidden", Detail: "This API key may not do this.",
		Title: "Not allowed", Message: "You may not do this."}},
	{isErr(context.Canceled), Failure{Status: StatusClientClosed, Type: "cancelled", Detail: "The request was cancelled.",
		Title: "Cancelled", Message: "The request was cancelled."}},
	{isErr(store.ErrAuditWrite), Failure{Status: http.StatusServiceUnavailable, Type: "unavailable",
		Detail: "The console could not record this request in its audit trail, so it refused it; nothing was changed or issued. Retry later.",
		Title:  "Audit trail unavailable", Message: "The console could not record this request in its audit trail, so it refused it. Try again in a moment."}},
	{isErr(ErrExportBusy), Failure{Status: http.StatusServiceUnavailable, Type: "busy",
		Detail: "This console instance is already streaming as many audit exports as it allows; nothing was exported. Retry after the time in Retry-After.",
		Title:  "Too many exports", Message: "Other audit exports are running on this console right now. Try again in a minute."}},
	{isErr(store.ErrAuditTooSlow), Failure{Status: http.StatusServiceUnavailable, Type: "unavailable",
		Detail: "Reading the audit events took longer than the console's time limit, so it stopped. Narrow the filter (a project, an action, a time range) or retry later.",
		Title:  "Too slow to read", Message: "Reading these audit events took longer than the console allows. Narrow the filter (a project, an action, a time range) or try again later."}},
	{isUnavailable, Failure{Status: http.StatusServiceUnavailable, Type: "unavailable",
		Detail: "The console could not reach its database; nothing was changed or issued. Retry later.",
		Title:  "Database unavailable", Message: "The console could not reach its database. Try again in a moment; the console reconnects by itself."}},
}

// internalFailure answers every error the table does not name.
var internalFailure = Failure{Status: http.StatusInternalServerError, Type: "internal",
	Detail: "The console could not complete the request; nothing was changed or issued.",
	Title:  "Something went wrong", Message: "The console could not complete this request. The request id below helps an admin find the cause in the logs."}

func isErr(targets ...error) func(error) bool {
	return func(err error) bool {
		for _, t := range targets {
			if errors.Is(err, t) {
				return true
			}
		}
		return false
	}
}

// FailureOf looks err up in the error table.
func FailureOf(err error) Failure {
	for _, f := range failures {
		if f.is(err) {
			return f.failure
		}
	}
	return internalFailure
}

// FieldErrors returns the field messages err carries: those of a validation
// error, or the one field an error of the table belongs to; nil otherwise.
func FieldErrors(err error) map[string]string {
	if fe := store.FieldErrors(err); fe != nil {
		return fe
	}
	if err == nil {
		return nil
	}
	if f := FailureOf(err); f.Field != "" {
		return map[string]string{f.Field: f.FieldText}
	}
	return nil
}

// LogFailure logs an error that is not the visitor's fault (5xx) and
// returns its Failure.
func (s *Server) LogFailure(r *http.Request, err error) Failure {
	f := FailureOf(err)
	if f.Status >= 500 {
		s.Log.Error("request failed", "request_id", RequestID(r), "route", r.Pattern, "err", err)
	}
	return f
}

// isUnavailable tells whether err means the database could not be reached or
// could not complete the write: connection refused or lost, server shutting
// down, read-only, out of space, timeouts.
func isUnavailable(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code[:2] {
		case "08", "53", "57", "58", "25", "40":
			return true
		}
		return false
	}
	var connErr *pgconn.ConnectError
	var netErr net.Error
	return errors.As(err, &connErr) || errors.As(err, &netErr) || pgconn.Timeout(err) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, net.ErrClosed)
}
