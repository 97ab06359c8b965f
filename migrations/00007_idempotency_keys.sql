-- +goose Up

-- The first answer to an API request sent with an Idempotency-Key, kept for
-- 24 hours per API key so that a retry gets that answer instead of a second
-- token. The client's key and the request are kept as SHA-256 only; the
-- answer, which may hold a token, is sealed under the master key (AES-256-GCM,
-- additional data binding it to its API key and Idempotency-Key) and deleted
-- once the window ends.
CREATE TABLE idempotency_keys (
    api_key_id   bigint      NOT NULL REFERENCES api_keys (id),
    key_hash     bytea       NOT NULL CHECK (octet_length(key_hash) = 32),
    request_hash bytea       NOT NULL CHECK (octet_length(request_hash) = 32),
    status       smallint    NOT NULL CHECK (status BETWEEN 200 AND 299),
    location     text        NOT NULL DEFAULT '',
    key_id       text        NOT NULL,
    sealed_body  bytea       NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    PRIMARY KEY (api_key_id, key_hash)
);
CREATE INDEX idempotency_keys_expires_at ON idempotency_keys (expires_at);

INSERT INTO runtime_privileges (kind, object, privileges, reason) VALUES
    ('table', 'idempotency_keys', 'SELECT, INSERT, UPDATE, DELETE',
        'replay the first answer to a retried API request for 24 h, re-encrypt it on rekey, purge it after');
SELECT regrant_runtime_roles();

-- +goose Down
DELETE FROM runtime_privileges WHERE object = 'idempotency_keys';
DROP TABLE idempotency_keys;
