package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/zegocloud-console/console/internal/sink"
	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/web"
	"github.com/zegocloud-console/console/internal/zego"
)

// config is everything the console reads from its environment. Every
// variable is documented in the README with its default.
type config struct {
	DatabaseURL    string // the runtime role: serve and the everyday commands
	MigrateURL     string // the schema owner: migrate, db grant, audit prune, dev seed
	AllowOwnerRole bool   // serve as a superuser or the schema owner anyway (development)
	Addr           string
	Dev            bool
	DataDir        string
	MasterKey      string
	MasterKeyOld   string
	AdminPassword  string
	AuditKey       string
	AuditKeyOld    string // older audit keys, comma-separated: they only verify
	SessionIdle    time.Duration
	SessionMax     time.Duration
	TrustProxy     bool
	LogLevel       string
	APIRate        float64
	APIBurst       int
	UnauthRate     float64 // refused unauthenticated requests per second per client address
	UnauthBurst    int
	SealInterval   time.Duration
	VerifyInterval time.Duration
	MetricsAddr    string // a listener of its own for /metrics, without authentication
	Pprof          bool   // serve Go's /debug/pprof/ on the metrics listener too
	MetricsToken   string // bearer token for /metrics on the main listener
	// Audit exports: per batch of events, per export, and how many at once.
	ExportBatchTimeout time.Duration
	ExportMaxDuration  time.Duration
	ExportConcurrency  int
	OIDC               web.OIDCConfig
	OIDCRulesFile      string        // initial SSO mapping rules (JSON), loaded when none were ever set
	LocalLogin         string        // all, admins or none: who may sign in with a password
	AnchorInterval     time.Duration // how often the sealer emits audit.anchor; 0: never
	SinkDir            string        // where file sinks write
	SinkRetry          sink.Schedule // waits after consecutive delivery failures
	ZegoAPIBase        string        // base URL of every ZEGO server API, in place of ZEGO's hosts (a stand-in, a proxy)
	ZegoRTCAPIBase     string        // the same for RTC's server API alone
	ZegoZIMAPIBase     string        // the same for In-app Chat's server API alone
	MFA                string        // optional, admins or all: who must have a second factor
	StepUpAge          time.Duration // how recently a person must have proved who they are before a dangerous action
	PublicURL          string        // the console's public origin: the passkeys' relying party
	// Group commit of concurrent token issues: tokens per commit at most (1:
	// each its own commit) and commits in flight at once.
	IssueGroupMax     int
	IssueGroupFlushes int
	APIKeyCacheTTL    time.Duration // how long a verified API key is kept in memory; 0: not at all
}

// loadConfig reads the environment; a variable NAME that holds a secret may
// instead be given as NAME_FILE, the path of a file holding it.
func loadConfig(getenv func(string) string) (config, error) {
	var errs []error
	get := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	secret := func(name string) string {
		if v := getenv(name); v != "" {
			return v
		}
		if path := getenv(name + "_FILE"); path != "" {
			b, err := os.ReadFile(path)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s_FILE: %w", name, err))
				return ""
			}
			return strings.TrimRight(string(b), "\r\n")
		}
		return ""
	}
	dur := func(name string, def time.Duration) time.Duration {
		v := getenv(name)
		if v == "" {
			return def
		}
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			errs = append(errs, fmt.Errorf("%s=%q: want a positive duration such as 30m", name, v))
			return def
		}
		return d
	}
	boolean := func(name string) bool {
		v := getenv(name)
		if v == "" {
			return false
		}
		b, err := strconv.ParseBool(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s=%q: want true or false", name, v))
		}
		return b
	}
	c := config{
		DatabaseURL:    secret("DATABASE_URL"),
		MigrateURL:     secret("CONSOLE_MIGRATE_DATABASE_URL"),
		AllowOwnerRole: boolean("CONSOLE_ALLOW_OWNER_ROLE"),
		Addr:           get("CONSOLE_ADDR", ":8080"),
		Dev:            boolean("CONSOLE_DEV"),
		DataDir:        get("CONSOLE_DATA_DIR", ".data"),
		MasterKey:      secret("CONSOLE_MASTER_KEY"),
		MasterKeyOld:   secret("CONSOLE_MASTER_KEY_OLD"),
		AdminPassword:  secret("CONSOLE_ADMIN_PASSWORD"),
		AuditKey:       secret("CONSOLE_AUDIT_KEY"),
		AuditKeyOld:    secret("CONSOLE_AUDIT_KEY_OLD"),
		SessionIdle:    dur("CONSOLE_SESSION_IDLE", 30*time.Minute),
		SessionMax:     dur("CONSOLE_SESSION_MAX", 12*time.Hour),
		TrustProxy:     boolean("CONSOLE_TRUST_PROXY"),
		LogLevel:       get("CONSOLE_LOG_LEVEL", "info"),
		SealInterval:   dur("CONSOLE_SEAL_INTERVAL", 250*time.Millisecond),
		VerifyInterval: dur("CONSOLE_VERIFY_INTERVAL", 10*time.Minute),
		MetricsAddr:    get("CONSOLE_METRICS_ADDR", ""),
		Pprof:          boolean("CONSOLE_PPROF"),
		MetricsToken:   secret("CONSOLE_METRICS_TOKEN"),
		OIDC: web.OIDCConfig{Issuer: get("CONSOLE_OIDC_ISSUER", ""), ClientID: get("CONSOLE_OIDC_CLIENT_ID", ""),
			ClientSecret: secret("CONSOLE_OIDC_CLIENT_SECRET"), RedirectURL: get("CONSOLE_OIDC_REDIRECT_URL", ""),
			Scopes: strings.Fields(get("CONSOLE_OIDC_SCOPES", "openid profile email")), GroupsClaim: get("CONSOLE_OIDC_GROUPS_CLAIM", "groups"),
			Name: get("CONSOLE_OIDC_NAME", "single sign-on")},
		OIDCRulesFile:  get("CONSOLE_OIDC_RULES_FILE", ""),
		LocalLogin:     strings.ToLower(get("CONSOLE_LOCAL_LOGIN", store.LocalLoginAll)),
		SinkDir:        getenv("CONSOLE_SINK_DIR"),
		ZegoAPIBase:    get("CONSOLE_ZEGO_API_BASE", ""),
		ZegoRTCAPIBase: get("CONSOLE_ZEGO_RTC_API_BASE", ""),
		ZegoZIMAPIBase: get("CONSOLE_ZEGO_ZIM_API_BASE", ""),
		MFA:            strings.ToLower(get("CONSOLE_MFA", web.MFAOptional)),
		StepUpAge:      dur("CONSOLE_STEPUP_AGE", web.DefaultStepUpAge),
		PublicURL:      strings.TrimSuffix(get("CONSOLE_PUBLIC_URL", ""), "/"),
	}
	if c.SinkDir == "" {
		c.SinkDir = filepath.Join(c.DataDir, "audit-sinks")
	}
	if v := getenv("CONSOLE_API_KEY_CACHE_TTL"); v == "0" || v == "off" {
		c.APIKeyCacheTTL = 0
	} else {
		c.APIKeyCacheTTL = dur("CONSOLE_API_KEY_CACHE_TTL", store.DefaultAPIKeyCacheTTL)
	}
	if v := getenv("CONSOLE_AUDIT_ANCHOR_INTERVAL"); v == "0" || v == "off" {
		c.AnchorInterval = 0
	} else {
		c.AnchorInterval = dur("CONSOLE_AUDIT_ANCHOR_INTERVAL", 10*time.Minute)
	}
	c.ExportBatchTimeout = dur("CONSOLE_EXPORT_BATCH_TIMEOUT", web.DefaultExportBatchTimeout)
	c.ExportMaxDuration = dur("CONSOLE_EXPORT_MAX_DURATION", web.DefaultExportMaxDuration)
	var err error
	if c.SinkRetry, err = sink.ParseSchedule(get("CONSOLE_SINK_RETRY_SCHEDULE", sink.DefaultRetrySchedule)); err != nil {
		errs = append(errs, fmt.Errorf("CONSOLE_SINK_RETRY_SCHEDULE=%w", err))
	}
	if c.APIRate, err = strconv.ParseFloat(get("CONSOLE_API_RATE", "50"), 64); err != nil || c.APIRate <= 0 {
		errs = append(errs, fmt.Errorf("CONSOLE_API_RATE: want a positive number of requests per second"))
	}
	if c.APIBurst, err = strconv.Atoi(get("CONSOLE_API_BURST", "100")); err != nil || c.APIBurst <= 0 {
		errs = append(errs, fmt.Errorf("CONSOLE_API_BURST: want a positive whole number"))
	}
	if c.UnauthRate, err = strconv.ParseFloat(get("CONSOLE_UNAUTH_RATE", "0.2"), 64); err != nil || c.UnauthRate <= 0 {
		errs = append(errs, fmt.Errorf("CONSOLE_UNAUTH_RATE: want a positive number of refused requests per second per address, such as 0.2"))
	}
	if c.UnauthBurst, err = strconv.Atoi(get("CONSOLE_UNAUTH_BURST", "20")); err != nil || c.UnauthBurst <= 0 {
		errs = append(errs, fmt.Errorf("CONSOLE_UNAUTH_BURST: want a positive whole number"))
	}
	if c.IssueGroupMax, err = strconv.Atoi(get("CONSOLE_ISSUE_GROUP_MAX", "256")); err != nil || c.IssueGroupMax < 1 || c.IssueGroupMax > 1000 {
		errs = append(errs, fmt.Errorf("CONSOLE_ISSUE_GROUP_MAX: want a whole number of tokens per commit from 1 (no group commit) to 1000"))
	}
	if c.IssueGroupFlushes, err = strconv.Atoi(get("CONSOLE_ISSUE_GROUP_FLUSHES", "2")); err != nil || c.IssueGroupFlushes < 1 {
		errs = append(errs, fmt.Errorf("CONSOLE_ISSUE_GROUP_FLUSHES: want a positive whole number of group commits in flight at once"))
	}
	if c.ExportConcurrency, err = strconv.Atoi(get("CONSOLE_EXPORT_CONCURRENCY", strconv.Itoa(web.DefaultExportConcurrency))); err != nil || c.ExportConcurrency <= 0 {
		errs = append(errs, fmt.Errorf("CONSOLE_EXPORT_CONCURRENCY: want a positive whole number of audit exports at once"))
	}
	if len(errs) == 0 {
		errs = append(errs, c.validate())
	}
	return c, errors.Join(errs...)
}

// validate rejects settings that cannot work together, saying how to fix them.
func (c config) validate() error {
	var errs []error
	if c.DatabaseURL == "" && c.MigrateURL == "" {
		errs = append(errs, errNoDatabaseURL)
	}
	if c.MasterKey == "" && !c.Dev {
		errs = append(errs, errors.New("CONSOLE_MASTER_KEY is not set: ServerSecrets are encrypted with it; make one with 'head -c 32 /dev/urandom | base64' and keep it safe (or set CONSOLE_DEV=true for a throw-away development key)"))
	}
	switch strings.ToLower(c.LogLevel) {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("CONSOLE_LOG_LEVEL=%q: want debug, info, warn or error", c.LogLevel))
	}
	if c.MetricsAddr != "" && c.MetricsAddr == c.Addr && !strings.HasSuffix(c.Addr, ":0") {
		errs = append(errs, errors.New("CONSOLE_METRICS_ADDR is the same as CONSOLE_ADDR: give /metrics a listener of its own (such as 127.0.0.1:9090), or set CONSOLE_METRICS_TOKEN to serve it on the main listener behind a bearer token"))
	}
	if c.Pprof && c.MetricsAddr == "" {
		errs = append(errs, errors.New("CONSOLE_PPROF is on but CONSOLE_METRICS_ADDR is not set: the profiles are served only on the metrics listener"))
	}
	if c.MetricsToken != "" && len(c.MetricsToken) < 16 {
		errs = append(errs, errors.New("CONSOLE_METRICS_TOKEN is shorter than 16 characters: make one with 'head -c 24 /dev/urandom | base64'"))
	}
	errs = append(errs, c.validateSSO(), c.validateMFA())
	if c.SessionIdle > c.SessionMax {
		errs = append(errs, errors.New("CONSOLE_SESSION_IDLE is longer than CONSOLE_SESSION_MAX"))
	}
	for name, v := range map[string]string{"CONSOLE_ZEGO_API_BASE": c.ZegoAPIBase, "CONSOLE_ZEGO_RTC_API_BASE": c.ZegoRTCAPIBase,
		"CONSOLE_ZEGO_ZIM_API_BASE": c.ZegoZIMAPIBase} {
		if u, err := url.Parse(v); v != "" && (err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil) {
			errs = append(errs, fmt.Errorf("%s=%q: want the base URL of ZEGO's server API or a stand-in, such as https://rtc-api.zego.im/", name, v))
		}
	}
	return errors.Join(errs...)
}

// zegoClient calls ZEGO's server APIs, at ZEGO's hosts for each project's
// region unless CONSOLE_ZEGO_*API_BASE points elsewhere.
func (c config) zegoClient() *zego.Client {
	return &zego.Client{BaseURL: c.ZegoAPIBase,
		ServiceBaseURL: map[string]string{zego.ServiceRTC: c.ZegoRTCAPIBase, zego.ServiceZIM: c.ZegoZIMAPIBase}}
}

// keyring builds the master keyring. In dev mode without CONSOLE_MASTER_KEY it
// generates a key once and keeps it in DataDir/master.key, warning loudly.
func (c config) keyring(stderr io.Writer) (*store.Keyring, error) {
	key := c.MasterKey
	if key == "" {
		path := filepath.Join(c.DataDir, "master.key")
		b, err := os.ReadFile(path)
		switch {
		case err == nil:
			key = strings.TrimSpace(string(b))
		case errors.Is(err, os.ErrNotExist):
			raw := make([]byte, 32)
			if _, err := rand.Read(raw); err != nil {
				return nil, err
			}
			key = base64.StdEncoding.EncodeToString(raw)
			if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
				return nil, fmt.Errorf("dev master key: %w", err)
			}
			if err := os.WriteFile(path, []byte(key+"\n"), 0o600); err != nil {
				return nil, fmt.Errorf("dev master key: %w", err)
			}
		default:
			return nil, fmt.Errorf("dev master key: %w", err)
		}
		fmt.Fprintf(stderr, "WARNING: development mode: ServerSecrets are encrypted with the throw-away master key in %s. Set CONSOLE_MASTER_KEY for real use.\n", path)
	}
	return store.ParseMasterKeys(key, c.MasterKeyOld)
}

// errNoDatabaseURL says how to point the console at a database.
var errNoDatabaseURL = errors.New("DATABASE_URL is not set: point it at a PostgreSQL database (as the runtime role; see 'Database roles' in the README), or use 'make run', which starts a private one")

// open connects as the runtime role (DATABASE_URL) with the master keyring
// and the audit checkpoint MAC keys, the same for the server and every command.
func (c config) open(ctx context.Context, stderr io.Writer) (*store.Store, error) {
	if c.DatabaseURL == "" {
		return nil, &exitError{code: 2, err: fmt.Errorf("configuration: %w", errNoDatabaseURL)}
	}
	return c.openURL(ctx, stderr, c.DatabaseURL, true)
}

// openOwner connects as the schema owner, for what only the owner may do
// (what names it in messages): CONSOLE_MIGRATE_DATABASE_URL, or DATABASE_URL
// when that is unset (one role for everything, in development). It refuses
// a role that neither owns the schema nor is a superuser, saying what to set.
// Without withKeys the store has no keyring: enough to migrate and grant.
func (c config) openOwner(ctx context.Context, stderr io.Writer, what string, withKeys bool) (*store.Store, error) {
	u, from := c.MigrateURL, "CONSOLE_MIGRATE_DATABASE_URL"
	if u == "" {
		u, from = c.DatabaseURL, "DATABASE_URL"
	}
	st, err := c.openURL(ctx, stderr, u, withKeys)
	if err != nil {
		return nil, err
	}
	role, err := st.CurrentRole(ctx)
	if err != nil {
		st.Close()
		return nil, err
	}
	if !role.Superuser && !role.OwnsSchema {
		st.Close()
		return nil, &exitError{code: 2, err: fmt.Errorf("configuration: %s needs the owner of the console's schema, but %s connects as %q, "+
			"which does not own it: set CONSOLE_MIGRATE_DATABASE_URL to the owner role's connection string (DATABASE_URL is the runtime role's)",
			what, from, role.Name)}
	}
	return st, nil
}

// openURL opens a store on databaseURL, with the keys of the configuration
// when withKeys is set.
func (c config) openURL(ctx context.Context, stderr io.Writer, databaseURL string, withKeys bool) (*store.Store, error) {
	if !withKeys {
		return store.Open(ctx, databaseURL, nil)
	}
	keys, err := c.keyring(stderr)
	if err != nil {
		return nil, &exitError{code: 2, err: fmt.Errorf("configuration: %w", err)}
	}
	macKeys, err := auditMACKeys(c, keys)
	if err != nil {
		return nil, &exitError{code: 2, err: fmt.Errorf("configuration: %w", err)}
	}
	st, err := store.Open(ctx, databaseURL, keys)
	if err != nil {
		return nil, err
	}
	if macKeys != nil {
		st.SetAuditMACKeys(macKeys)
	}
	st.SetAuditAnchorInterval(c.AnchorInterval)
	return st, nil
}

// auditMACKeys returns the audit MAC keys, signing key first: CONSOLE_AUDIT_KEY
// when set, else the one derived from the current master key. Then, only to
// verify what they signed: CONSOLE_AUDIT_KEY_OLD and the keys derived from
// the other master keys. nil leaves the store's default (the derived keys).
func auditMACKeys(c config, keys *store.Keyring) ([][]byte, error) {
	if c.AuditKey == "" && c.AuditKeyOld == "" {
		return nil, nil
	}
	derived := keys.DerivedKeys("audit-checkpoint")
	signing, rest := derived[:1], derived[1:]
	if c.AuditKey != "" {
		k, err := decodeAuditKey(c.AuditKey)
		if err != nil {
			return nil, fmt.Errorf("CONSOLE_AUDIT_KEY %w", err)
		}
		signing, rest = [][]byte{k}, derived
	}
	var olds [][]byte
	for _, s := range store.KeyList(c.AuditKeyOld) {
		k, err := decodeAuditKey(s)
		if err != nil {
			return nil, fmt.Errorf("CONSOLE_AUDIT_KEY_OLD: each key %w", err)
		}
		olds = append(olds, k)
	}
	return slices.Concat(signing, olds, rest), nil
}

// decodeAuditKey decodes one audit MAC key.
func decodeAuditKey(s string) ([]byte, error) {
	k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil || len(k) < 32 {
		return nil, errors.New("must be base64 of at least 32 bytes (make one with: head -c 32 /dev/urandom | base64)")
	}
	return k, nil
}

// openStore loads the configuration and connects as the runtime role, for
// the commands that need a database.
func openStore(ctx context.Context, e env) (*store.Store, config, error) {
	c, err := loadConfig(e.getenv)
	if err != nil {
		return nil, c, &exitError{code: 2, err: fmt.Errorf("configuration: %w", err)}
	}
	st, err := c.open(ctx, e.stderr)
	return st, c, err
}

// openOwnerStore loads the configuration and connects as the schema owner,
// for the commands that change the schema or delete audit events (what);
// withKeys loads the master keyring too.
func openOwnerStore(ctx context.Context, e env, what string, withKeys bool) (*store.Store, config, error) {
	c, err := loadConfig(e.getenv)
	if err != nil {
		return nil, c, &exitError{code: 2, err: fmt.Errorf("configuration: %w", err)}
	}
	st, err := c.openOwner(ctx, e.stderr, what, withKeys)
	return st, c, err
}
