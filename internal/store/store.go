// Package store keeps everything the console remembers in PostgreSQL: plain
// SQL through pgx, one file per resource. Changes that must be audited commit
// in the same transaction as their audit event.
package store

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Sentinel errors that callers test with errors.Is.
var (
	ErrProjectNotFound  = errors.New("project not found")
	ErrSecretNotFound   = errors.New("secret version not found")
	ErrTokenNotFound    = errors.New("token not found")
	ErrOperatorNotFound = errors.New("operator not found")
	ErrAPIKeyNotFound   = errors.New("api key not found")
	ErrDuplicate        = errors.New("already exists")
)

// Store is the console's database.
type Store struct {
	pool     *pgxpool.Pool
	keys     *Keyring
	observer Observer
	// passwordChecks bounds the argon2 checks running at once (each holds ~19 MiB).
	passwordChecks   chan struct{}
	passwordParams   PasswordParams
	dummyHash        func() (string, error) // see Authenticate
	unknownNameKey   func() []byte          // see unknownAccount
	auditTextTimeout time.Duration
	loginNow         func() time.Time // the clock of sign-in throttling; see WithLoginClock
	loginDelay       time.Duration    // an account's first delay after too many failures; see WithLoginDelay
	loginDelayMax    time.Duration
	migrated         atomic.Bool // the schema was found current: MigrationsPending need not ask again
	auditMACKeys     [][]byte    // checkpoint MAC keys, signing key first; see SetAuditMACKeys
	verifyGate       auditVerifyGate
	// beforeIssueInsert, when set (by tests only), runs in IssueToken between
	// reading the project and its secret and writing the token's record: the
	// window in which an admin may disable, delete or rotate. It is given the
	// connection's backend process id, when the write has one of its own.
	beforeIssueInsert func(pid uint32)
	group             atomic.Pointer[issueGroup]  // set while RunIssueGroupCommit runs
	keyCache          atomic.Pointer[apiKeyCache] // set while RunAPIKeyCache runs
	passwordSignIn    PasswordSignIn              // who may sign in with a password; see SetPasswordSignIn
	anchorEvery       time.Duration               // how often the sealer emits audit.anchor; 0: never
	feed              *feedWatch                  // wakes those who wait for the revocation feed to move
}

// dbtx is what both the pool and a transaction offer.
type dbtx interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// New wraps an open pool; keys seals and opens ServerSecrets. It panics on
// an invalid option, a mistake in the program; Open returns it as an error.
func New(pool *pgxpool.Pool, keys *Keyring, opts ...Option) *Store {
	s, err := newStore(pool, keys, opts)
	if err != nil {
		panic(err)
	}
	return s
}

func newStore(pool *pgxpool.Pool, keys *Keyring, opts []Option) (*Store, error) {
	s := &Store{pool: pool, keys: keys, passwordChecks: make(chan struct{}, 2*runtime.NumCPU()),
		passwordParams: defaultPasswordParams, auditTextTimeout: defaultAuditTextTimeout, loginNow: time.Now,
		loginDelay: defaultLoginDelay, loginDelayMax: defaultLoginDelayMax, feed: newFeedWatch()}
	for _, opt := range opts {
		if err := opt(s); err != nil {
			return nil, err
		}
	}
	// An unknown username is checked against this hash, so that it costs as
	// much time as a wrong password.
	s.dummyHash = sync.OnceValues(func() (string, error) {
		return hashPasswordWith(s.passwordParams, "not a password anyone can type\x00")
	})
	s.unknownNameKey = sync.OnceValue(func() []byte {
		return s.keys.DerivedKeys("sign-in unknown username")[0]
	})
	return s, nil
}

// Open connects to databaseURL with a pool sized for a web server.
func Open(ctx context.Context, databaseURL string, keys *Keyring, opts ...Option) (*Store, error) {
	s, err := newStore(nil, keys, opts)
	if err != nil {
		return nil, err
	}
	cfg, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		return nil, fmt.Errorf("store: parse database url: %w", err)
	}
	if cfg.MaxConns < 16 {
		cfg.MaxConns = 16
	}
	// No JIT compilation unless the URL asks for it: the audit trail's
	// queries over a dozen partitions cost enough to cross jit_above_cost,
	// and compiling them took 27 ms of a 55 ms export batch, every batch.
	if _, set := cfg.ConnConfig.RuntimeParams["jit"]; !set {
		cfg.ConnConfig.RuntimeParams["jit"] = "off"
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("store: open pool: %w", err)
	}
	s.pool = pool
	return s, nil
}

// Pool exposes the connection pool for health checks and tests.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Keys is the keyring that seals ServerSecrets.
func (s *Store) Keys() *Keyring { return s.keys }

// Close stops watching the revocation feed and releases every connection.
func (s *Store) Close() {
	s.feed.close()
	s.pool.Close()
}

// Ping tells whether the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("store: ping: %w", err)
	}
	return nil
}

// inTx runs fn in one transaction: committed when fn returns nil, rolled back
// otherwise (also when ctx is cancelled, hence the rollback's own context).
func (s *Store) inTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // no-op after commit
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}

// deadlockRetries is how many times retryDeadlocked tries a deadlock's
// victim again.
const deadlockRetries = 3

// retryDeadlocked runs fn, and at once again, up to deadlockRetries times,
// while PostgreSQL ends it as the victim of a deadlock (40P01). It is for the
// background workers of the audit trail (the sealer, the text indexer), whose
// batch is one transaction that the deadlock rolled back whole, so that
// trying it again loses and doubles nothing: a cycle with another session
// (the partition maker takes the trail's tables in the order events, chain,
// text; the indexer takes the text first) is transient, the other session
// goes on once the victim gave way.
func retryDeadlocked(ctx context.Context, fn func() error) error {
	err := fn()
	for range deadlockRetries {
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "40P01" || ctx.Err() != nil {
			break
		}
		err = fn()
	}
	return err
}

// isUniqueViolation tells whether err is PostgreSQL's unique_violation.
func isUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505"
}
