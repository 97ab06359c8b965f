package store

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/jackc/pgx/v5"
)

// MaxBatchTokens is the most tokens one IssueTokens call issues.
const MaxBatchTokens = 1000

// IssueTokens issues a token for each request in one transaction, all or
// none: one read of the projects, one statement that writes every record and
// its token.issue event, one commit. When any request is refused nothing is
// issued, and the error says why: a ValidationError whose fields name the
// request by its index, tokens[i].field, for every field at fault; else the
// first other refusal (a project not found, disabled, or changed meanwhile).
func (s *Store) IssueTokens(ctx context.Context, reqs []IssueRequest) ([]IssuedToken, error) {
	var issued []IssuedToken
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		issued, err = s.issueBatch(ctx, tx, reqs)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.observeIssued(issued)
	return issued, nil
}

// IssueTokensOnce is IssueTokens for a request that may be retried, as
// IssueTokenOnce is for one token: a retry gets the first answer and issues
// nothing more.
func (s *Store) IssueTokensOnce(ctx context.Context, reqs []IssueRequest, idem Idempotency,
	answer func([]IssuedToken) (Answer, error)) (Answer, bool, error) {
	var issued []IssuedToken
	a, replayed, err := s.once(ctx, idem, func(tx pgx.Tx) (Answer, error) {
		var err error
		if issued, err = s.issueBatch(ctx, tx, reqs); err != nil {
			return Answer{}, err
		}
		return answer(issued)
	})
	if err == nil {
		s.observeIssued(issued)
	}
	return a, replayed, err
}

// issueBatch is IssueTokens in tx, which the caller commits only when it
// returns no error.
func (s *Store) issueBatch(ctx context.Context, tx pgx.Tx, reqs []IssueRequest) ([]IssuedToken, error) {
	if len(reqs) == 0 || len(reqs) > MaxBatchTokens {
		return nil, &ValidationError{Fields: map[string]string{
			"tokens": fmt.Sprintf("must list 1 to %d tokens (got %d)", MaxBatchTokens, len(reqs))}}
	}
	issued, errs, err := s.issueTokens(ctx, tx, reqs, true)
	if err != nil {
		return nil, fmt.Errorf("issue tokens: %w", err)
	}
	fields := map[string]string{}
	var refused error
	for i, err := range errs {
		fe := FieldErrors(err)
		for _, f := range slices.Sorted(maps.Keys(fe)) {
			fields[fmt.Sprintf("tokens[%d].%s", i, f)] = fe[f]
		}
		if err != nil && fe == nil && refused == nil {
			refused = fmt.Errorf("tokens[%d]: %w", i, err)
		}
	}
	if len(fields) > 0 {
		return nil, &ValidationError{Fields: fields}
	}
	if refused != nil {
		return nil, refused
	}
	return issued, nil
}
