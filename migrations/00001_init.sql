-- +goose Up

-- People who sign in to the web console.
CREATE TABLE operators (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username      text        NOT NULL UNIQUE CHECK (username ~ '^[A-Za-z0-9._@-]{1,64}$'),
    display_name  text        NOT NULL DEFAULT '' CHECK (length(display_name) <= 100),
    role          text        NOT NULL CHECK (role IN ('admin', 'operator', 'auditor')),
    password_hash text        NOT NULL CHECK (password_hash LIKE '$argon2id$%'),
    disabled      boolean     NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- ZEGO projects. A deleted project keeps its row (issued tokens and audit
-- events still name it) but loses its secrets.
CREATE TABLE projects (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    app_id              bigint      NOT NULL CHECK (app_id BETWEEN 1 AND 4294967295),
    name                text        NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    environment         text        NOT NULL DEFAULT 'test' CHECK (environment ~ '^[a-z0-9][a-z0-9-]{0,31}$'),
    default_ttl_seconds integer     NOT NULL CHECK (default_ttl_seconds > 0),
    max_ttl_seconds     integer     NOT NULL CHECK (max_ttl_seconds >= default_ttl_seconds),
    publish_allowed     boolean     NOT NULL DEFAULT true,
    disabled            boolean     NOT NULL DEFAULT false,
    deleted_at          timestamptz,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX projects_app_id_live ON projects (app_id) WHERE deleted_at IS NULL;

-- ServerSecrets, AES-256-GCM sealed under a master key (key_id names it) with
-- "project:<id>:v<version>" as additional data, so rows cannot be swapped.
CREATE TABLE project_secrets (
    project_id bigint      NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    version    integer     NOT NULL CHECK (version > 0),
    key_id     text        NOT NULL CHECK (length(key_id) BETWEEN 1 AND 64),
    ciphertext bytea       NOT NULL CHECK (octet_length(ciphertext) = 12 + 32 + 16),
    active     boolean     NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    created_by text        NOT NULL,
    retired_at timestamptz,
    PRIMARY KEY (project_id, version),
    CHECK (active = (retired_at IS NULL))
);
CREATE UNIQUE INDEX project_secrets_one_active ON project_secrets (project_id) WHERE active;

-- What is kept of an issued token: its claims and fingerprint, never the token.
CREATE TABLE issued_tokens (
    id                uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    project_id        bigint      NOT NULL REFERENCES projects (id),
    app_id            bigint      NOT NULL CHECK (app_id BETWEEN 1 AND 4294967295),
    secret_version    integer     NOT NULL CHECK (secret_version > 0),
    user_id           text        NOT NULL CHECK (octet_length(user_id) BETWEEN 1 AND 64),
    room_id           text        NOT NULL DEFAULT '' CHECK (length(room_id) <= 128),
    privilege_login   boolean,
    privilege_publish boolean,
    stream_ids        text[],
    ctime             timestamptz NOT NULL,
    expire            timestamptz NOT NULL,
    nonce             integer     NOT NULL,
    fingerprint       bytea       NOT NULL UNIQUE CHECK (octet_length(fingerprint) = 32),
    mode              text        NOT NULL CHECK (mode IN ('gcm', 'cbc')),
    channel           text        NOT NULL CHECK (channel IN ('ui', 'api', 'cli')),
    issued_by_type    text        NOT NULL CHECK (issued_by_type IN ('operator', 'api_key', 'cli')),
    issued_by_id      text        NOT NULL,
    issued_by_name    text        NOT NULL,
    client_ip         text        NOT NULL DEFAULT '',
    revoked_at        timestamptz,
    revoked_by        text,
    revoke_reason     text        CHECK (length(revoke_reason) <= 500),
    CHECK (expire > ctime),
    CHECK ((privilege_login IS NULL) = (privilege_publish IS NULL)),
    CHECK ((revoked_at IS NULL) = (revoked_by IS NULL))
);
CREATE INDEX issued_tokens_project_ctime ON issued_tokens (project_id, ctime DESC);
CREATE INDEX issued_tokens_project_user ON issued_tokens (project_id, user_id);
CREATE INDEX issued_tokens_ctime ON issued_tokens (ctime DESC);

-- Keys for backend services. Only a SHA-256 of the whole key is kept.
CREATE TABLE api_keys (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name         text        NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    prefix       text        NOT NULL UNIQUE CHECK (prefix ~ '^zc_[a-z0-9]{8}$'),
    secret_hash  bytea       NOT NULL CHECK (octet_length(secret_hash) = 32),
    scopes       text[]      NOT NULL CHECK (cardinality(scopes) > 0
                     AND scopes <@ ARRAY['issue', 'revoke', 'introspect', 'audit:read']),
    expires_at   timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    created_by   text        NOT NULL,
    revoked_at   timestamptz,
    revoked_by   text,
    last_used_at timestamptz,
    CHECK ((revoked_at IS NULL) = (revoked_by IS NULL))
);

CREATE TABLE api_key_projects (
    api_key_id bigint NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
    project_id bigint NOT NULL REFERENCES projects (id),
    PRIMARY KEY (api_key_id, project_id)
);

-- Web sessions: the cookie holds a random id, the table only its SHA-256.
CREATE TABLE web_sessions (
    id_hash      bytea       PRIMARY KEY CHECK (octet_length(id_hash) = 32),
    operator_id  bigint      NOT NULL REFERENCES operators (id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    data         jsonb       NOT NULL DEFAULT '{}'
);
CREATE INDEX web_sessions_expires ON web_sessions (expires_at);

-- Failed sign-ins, for throttling by account and by client address across instances.
CREATE TABLE login_failures (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username  text        NOT NULL,
    client_ip text        NOT NULL,
    at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_failures_username ON login_failures (username, at);
CREATE INDEX login_failures_ip ON login_failures (client_ip, at);

-- Keys and values every instance must share (the session cookie keys).
CREATE TABLE settings (
    name       text        PRIMARY KEY,
    value      bytea       NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- The audit trail. Rows are inserted unsealed (chain_seq, prev_hash and hash
-- NULL) inside the transaction of the change they record; a single sealer at a
-- time gives them their place in the hash chain shortly after they commit.
CREATE TABLE audit_events (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    occurred_at       timestamptz NOT NULL DEFAULT now(),
    actor_type        text        NOT NULL CHECK (actor_type IN ('operator', 'api_key', 'cli', 'system', 'anonymous')),
    actor_id          text        NOT NULL DEFAULT '',
    actor_name        text        NOT NULL DEFAULT '',
    action            text        NOT NULL CHECK (action ~ '^[a-z_]+(\.[a-z_]+)+$'),
    outcome           text        NOT NULL CHECK (outcome IN ('success', 'denied', 'error')),
    app_id            bigint,
    target_type       text        NOT NULL DEFAULT '',
    target_id         text        NOT NULL DEFAULT '',
    request_id        text        NOT NULL DEFAULT '',
    client_ip         text        NOT NULL DEFAULT '',
    user_agent        text        NOT NULL DEFAULT '',
    details           jsonb       NOT NULL DEFAULT '{}',
    token_fingerprint bytea       CHECK (octet_length(token_fingerprint) = 32),
    chain_seq         bigint      UNIQUE,
    prev_hash         bytea,
    hash              bytea,
    sealed_at         timestamptz,
    CHECK ((chain_seq IS NULL) = (hash IS NULL) AND (hash IS NULL) = (prev_hash IS NULL))
);
CREATE INDEX audit_events_app ON audit_events (app_id, id DESC);
CREATE INDEX audit_events_actor ON audit_events (actor_name, id DESC);
CREATE INDEX audit_events_action ON audit_events (action, id DESC);
CREATE INDEX audit_events_app_action ON audit_events (app_id, action, id DESC);
CREATE INDEX audit_events_occurred ON audit_events (occurred_at DESC, id DESC);
CREATE INDEX audit_events_fingerprint ON audit_events (token_fingerprint) WHERE token_fingerprint IS NOT NULL;
CREATE INDEX audit_events_unsealed ON audit_events (id) WHERE hash IS NULL;

-- Signed chain heads: periodic, and the anchor left behind by a prune.
CREATE TABLE audit_checkpoints (
    chain_seq  bigint      PRIMARY KEY,
    hash       bytea       NOT NULL CHECK (octet_length(hash) = 32),
    mac        bytea       NOT NULL CHECK (octet_length(mac) = 32),
    kind       text        NOT NULL CHECK (kind IN ('periodic', 'prune')),
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Results of chain verification, shown on the audit page.
CREATE TABLE audit_verifications (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    verified_at  timestamptz NOT NULL DEFAULT now(),
    ok           boolean     NOT NULL,
    events       bigint      NOT NULL,
    break_seq    bigint,
    break_kind   text,
    message      text        NOT NULL DEFAULT ''
);

-- Append-only: an event may be sealed once, never changed or removed; rows
-- go only through an explicit prune, which sets console.audit_prune locally.
-- +goose StatementBegin
CREATE FUNCTION audit_events_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF current_setting('console.audit_prune', true) = 'on' THEN
            RETURN OLD;
        END IF;
        RAISE EXCEPTION 'audit_events is append-only: DELETE refused' USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF OLD.hash IS NULL AND NEW.hash IS NOT NULL
       AND (NEW.id, NEW.occurred_at, NEW.actor_type, NEW.actor_id, NEW.actor_name, NEW.action, NEW.outcome,
            NEW.app_id, NEW.target_type, NEW.target_id, NEW.request_id, NEW.client_ip, NEW.user_agent,
            NEW.details, NEW.token_fingerprint)
           IS NOT DISTINCT FROM
           (OLD.id, OLD.occurred_at, OLD.actor_type, OLD.actor_id, OLD.actor_name, OLD.action, OLD.outcome,
            OLD.app_id, OLD.target_type, OLD.target_id, OLD.request_id, OLD.client_ip, OLD.user_agent,
            OLD.details, OLD.token_fingerprint) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit_events is append-only: UPDATE refused' USING ERRCODE = 'insufficient_privilege';
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_guard();
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_guard();

-- +goose StatementBegin
CREATE FUNCTION audit_events_no_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only: TRUNCATE refused' USING ERRCODE = 'insufficient_privilege';
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_no_truncate();

-- +goose Down
DROP TABLE audit_verifications;
DROP TABLE audit_checkpoints;
DROP TABLE audit_events;
DROP FUNCTION audit_events_no_truncate();
DROP FUNCTION audit_events_guard();
DROP TABLE settings;
DROP TABLE login_failures;
DROP TABLE web_sessions;
DROP TABLE api_key_projects;
DROP TABLE api_keys;
DROP TABLE issued_tokens;
DROP TABLE project_secrets;
DROP TABLE projects;
DROP TABLE operators;
