-- +goose Up

-- Audit sinks: where the sealed audit chain is streamed (a webhook, a syslog
-- receiver over TLS, a local file). Each keeps its own cursor, the last
-- chain_seq it has handled, so that delivery is at-least-once and in chain
-- order whichever instance delivers; one instance at a time delivers for a
-- sink, under an advisory lock (store.sinkLockClass, sink id).
CREATE TABLE audit_sinks (
    id                bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name              text        NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 100),
    kind              text        NOT NULL CHECK (kind IN ('webhook', 'syslog', 'file')),
    -- Settings that are not secret (URL, address, CA, file name, format…).
    config            jsonb       NOT NULL DEFAULT '{}',
    -- Secrets (webhook signing secrets, custom headers, a client key), as
    -- JSON sealed under the master key named by secret_key_id, bound to the row.
    secret_key_id     text,
    secret_ciphertext bytea,
    filter_app_ids    bigint[]    NOT NULL DEFAULT '{}',
    filter_actions    text[]      NOT NULL DEFAULT '{}',
    filter_outcomes   text[]      NOT NULL DEFAULT '{}',
    state             text        NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'paused', 'disabled')),
    state_reason      text        NOT NULL DEFAULT '',
    cursor_seq        bigint      NOT NULL DEFAULT 0 CHECK (cursor_seq >= 0),
    -- Bumped by a replay, so that a delivery that began before it cannot
    -- move the cursor it reset.
    generation        bigint      NOT NULL DEFAULT 0,
    attempts          integer     NOT NULL DEFAULT 0,
    next_attempt_at   timestamptz NOT NULL DEFAULT now(),
    delivered         bigint      NOT NULL DEFAULT 0,
    failed            bigint      NOT NULL DEFAULT 0,
    last_error        text        NOT NULL DEFAULT '',
    last_error_at     timestamptz,
    last_delivered_at timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    created_by        text        NOT NULL,
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CHECK ((secret_key_id IS NULL) = (secret_ciphertext IS NULL))
);

-- API keys may carry sinks:admin, for admins' automation of the sinks.
ALTER TABLE api_keys DROP CONSTRAINT api_keys_scopes_check;
ALTER TABLE api_keys ADD CONSTRAINT api_keys_scopes_check CHECK (cardinality(scopes) > 0
    AND scopes <@ ARRAY['issue', 'revoke', 'introspect', 'audit:read', 'revocations:read', 'sinks:admin']);

INSERT INTO runtime_privileges (kind, object, privileges, reason) VALUES
    ('table', 'audit_sinks', 'SELECT, INSERT, UPDATE, DELETE',
        'admins create, pause, resume, replay and delete audit sinks; the deliverer moves their cursors');
SELECT regrant_runtime_roles();

-- +goose Down
DELETE FROM runtime_privileges WHERE object = 'audit_sinks';
ALTER TABLE api_keys DROP CONSTRAINT api_keys_scopes_check;
UPDATE api_keys SET scopes = array_remove(scopes, 'sinks:admin') WHERE 'sinks:admin' = ANY (scopes);
DELETE FROM api_keys WHERE cardinality(scopes) = 0;
ALTER TABLE api_keys ADD CONSTRAINT api_keys_scopes_check CHECK (cardinality(scopes) > 0
    AND scopes <@ ARRAY['issue', 'revoke', 'introspect', 'audit:read', 'revocations:read']);
DROP TABLE audit_sinks;
SELECT regrant_runtime_roles();
