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

// statusFor maps an error from the store to an HTTP status and a problem
// type slug. Anything unexpected is a 503 when the database is the cause
// (the change was not made; retrying later may work) and a 500 otherwise.
func statusFor(err error) (int, string) {
	switch {
	case store.FieldErrors(err) != nil:
		return http.StatusUnprocessableEntity, "validation"
	case errors.Is(err, store.ErrProjectNotFound), errors.Is(err, store.ErrTokenNotFound),
		errors.Is(err, store.ErrOperatorNotFound), errors.Is(err, store.ErrAPIKeyNotFound):
		return http.StatusNotFound, "not-found"
	case errors.Is(err, store.ErrProjectDisabled):
		return http.StatusConflict, "project-disabled"
	case errors.Is(err, store.ErrForbidden):
		return http.StatusForbidden, "forbidden"
	case errors.Is(err, context.Canceled):
		return 499, "cancelled"
	case isUnavailable(err):
		return http.StatusServiceUnavailable, "unavailable"
	default:
		return http.StatusInternalServerError, "internal"
	}
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

// fail renders the error page that fits err and logs what is not the
// visitor's fault. Messages never include the error text of the store,
// which might name internals.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	status, _ := statusFor(err)
	if status >= 500 {
		s.log.Error("request failed", "request_id", requestID(r), "route", r.Pattern, "err", err)
	}
	switch status {
	case http.StatusNotFound:
		s.renderError(w, r, status, "Not found", "There is nothing here. It may have been deleted.")
	case http.StatusConflict:
		s.renderError(w, r, status, "Project disabled", "This project is disabled: enable it on its page before issuing tokens.")
	case http.StatusForbidden:
		s.renderError(w, r, status, "Not allowed", "You may not do this.")
	case http.StatusServiceUnavailable:
		s.renderError(w, r, status, "Database unavailable", "The console could not reach its database, so nothing was changed and no token was issued. Try again in a moment; the console reconnects by itself.")
	case 499:
	default:
		s.renderError(w, r, status, "Something went wrong", "The console could not complete this request. Nothing was issued. The request id below helps an admin find the cause in the logs.")
	}
}
