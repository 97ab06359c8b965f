-- +goose Up

-- Revocation that bites. Per project, an admin chooses which ZEGO products it
-- uses and whether revoking a token kicks its user out of the token's room
-- there (through an outbox, zego_kicks); every revocation enters a feed that
-- services follow (revocations, numbered in commit order by seq).

ALTER TABLE projects
    ADD COLUMN kick_on_revoke boolean NOT NULL DEFAULT false,
    ADD COLUMN zego_services  text[]  NOT NULL DEFAULT ARRAY['rtc']
        CHECK (cardinality(zego_services) > 0 AND zego_services <@ ARRAY['rtc', 'zim']),
    ADD COLUMN zego_region    text    NOT NULL DEFAULT 'global'
        CHECK (zego_region IN ('global', 'sha', 'hkg', 'fra', 'lax', 'bom', 'sgp'));

-- A new API key scope: read the revocation feed of the key's projects.
ALTER TABLE api_keys DROP CONSTRAINT api_keys_scopes_check;
ALTER TABLE api_keys ADD CONSTRAINT api_keys_scopes_check CHECK (cardinality(scopes) > 0
    AND scopes <@ ARRAY['issue', 'revoke', 'introspect', 'audit:read', 'revocations:read']);

-- The feed's counter: seq is the last number given, horizon the highest
-- number pruned (a cursor below it may have missed entries).
CREATE TABLE revocation_feed (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    seq       bigint  NOT NULL DEFAULT 0 CHECK (seq >= 0),
    horizon   bigint  NOT NULL DEFAULT 0 CHECK (horizon >= 0 AND horizon <= seq)
);

-- One entry per revoked token, numbered by seq in the order the revocations
-- committed.
CREATE TABLE revocations (
    seq         bigint      PRIMARY KEY,
    token_id    uuid        NOT NULL UNIQUE REFERENCES issued_tokens (id),
    app_id      bigint      NOT NULL,
    fingerprint bytea       NOT NULL CHECK (octet_length(fingerprint) = 32),
    user_id     text        NOT NULL,
    room_id     text        NOT NULL,
    expire      timestamptz NOT NULL,
    revoked_at  timestamptz NOT NULL
);
CREATE INDEX revocations_app_seq ON revocations (app_id, seq);
CREATE INDEX revocations_expire ON revocations (expire);

-- Tokens revoked before the feed existed enter it first, oldest first.
INSERT INTO revocations (seq, token_id, app_id, fingerprint, user_id, room_id, expire, revoked_at)
    SELECT row_number() OVER (ORDER BY revoked_at, id), id, app_id, fingerprint, user_id, room_id, expire, revoked_at
    FROM issued_tokens WHERE revoked_at IS NOT NULL;
INSERT INTO revocation_feed (seq) SELECT count(*) FROM revocations;

-- Numbering at commit: the trigger is deferred, so it runs while the revoking
-- transaction commits, after every lock it needs on tokens is held; it locks
-- the counter row until the commit completes. A revocation that commits later
-- therefore waits for the one before it and gets a higher seq, and every
-- snapshot that sees seq n sees every seq below n: a reader that resumes
-- after the last seq it saw misses nothing. Revocations are serialised only
-- for the moment of their commit.
-- +goose StatementBegin
CREATE FUNCTION revocations_append() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    next_seq bigint;
BEGIN
    UPDATE revocation_feed SET seq = seq + 1 RETURNING seq INTO next_seq;
    INSERT INTO revocations (seq, token_id, app_id, fingerprint, user_id, room_id, expire, revoked_at)
        VALUES (next_seq, NEW.id, NEW.app_id, NEW.fingerprint, NEW.user_id, NEW.room_id, NEW.expire, NEW.revoked_at);
    PERFORM pg_notify('revocations', next_seq::text);
    RETURN NULL;
END;
$$;
-- +goose StatementEnd
CREATE CONSTRAINT TRIGGER issued_tokens_revocation_feed AFTER UPDATE OF revoked_at ON issued_tokens
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    WHEN (OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL)
    EXECUTE FUNCTION revocations_append();

-- The kick outbox: one row per revoked token and product, committed with the
-- revocation, delivered by one console instance at a time (row locks), each
-- attempt audited as zego.kickout. code, message and request_id are ZEGO's
-- answer to the last attempt; the request's signature is never kept.
CREATE TABLE zego_kicks (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    token_id        uuid        NOT NULL REFERENCES issued_tokens (id),
    project_id      bigint      NOT NULL REFERENCES projects (id),
    app_id          bigint      NOT NULL,
    service         text        NOT NULL CHECK (service IN ('rtc', 'zim')),
    room_id         text        NOT NULL CHECK (room_id <> ''),
    user_id         text        NOT NULL,
    status          text        NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'done', 'failed')),
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    code            bigint,
    message         text        NOT NULL DEFAULT '',
    request_id      text        NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (token_id, service)
);
CREATE INDEX zego_kicks_due ON zego_kicks (next_attempt_at, id) WHERE status = 'queued';
CREATE INDEX zego_kicks_room ON zego_kicks (project_id, service, room_id, user_id) WHERE status = 'queued';

-- Pacing of calls to ZEGO, shared by every instance: the earliest time the
-- next call of a product for an AppID may start.
CREATE TABLE zego_api_pace (
    app_id  bigint      NOT NULL,
    service text        NOT NULL CHECK (service IN ('rtc', 'zim')),
    next_at timestamptz NOT NULL,
    PRIMARY KEY (app_id, service)
);

INSERT INTO runtime_privileges (kind, object, privileges, reason) VALUES
    ('table', 'revocation_feed', 'SELECT, UPDATE', 'number revocations in commit order (the feed trigger) and prune the feed'),
    ('table', 'revocations', 'SELECT, INSERT, DELETE',
        'append a revoked token to the feed (the feed trigger), serve the feed and its snapshot, prune entries of expired tokens'),
    ('table', 'zego_kicks', 'SELECT, INSERT, UPDATE', 'queue kicks with a revocation, deliver them and record each attempt'),
    ('table', 'zego_api_pace', 'SELECT, INSERT, UPDATE', 'pace calls to ZEGO''s server APIs across instances');
SELECT regrant_runtime_roles();

-- +goose Down
DELETE FROM runtime_privileges WHERE object IN ('revocation_feed', 'revocations', 'zego_kicks', 'zego_api_pace');
DROP TABLE zego_api_pace;
DROP TABLE zego_kicks;
DROP TRIGGER issued_tokens_revocation_feed ON issued_tokens;
DROP FUNCTION revocations_append();
DROP TABLE revocations;
DROP TABLE revocation_feed;
ALTER TABLE api_keys DROP CONSTRAINT api_keys_scopes_check;
UPDATE api_keys SET scopes = array_remove(scopes, 'revocations:read');
DELETE FROM api_keys WHERE cardinality(scopes) = 0;
ALTER TABLE api_keys ADD CONSTRAINT api_keys_scopes_check CHECK (cardinality(scopes) > 0
    AND scopes <@ ARRAY['issue', 'revoke', 'introspect', 'audit:read']);
ALTER TABLE projects DROP COLUMN zego_region, DROP COLUMN zego_services, DROP COLUMN kick_on_revoke;
