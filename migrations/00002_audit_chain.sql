-- +goose Up

-- The audit page lists newest first by (occurred_at, id), so that a time
-- range is an index range too; each filter gets an index in that order,
-- replacing the (X, id) ones. Auditors look for denials and errors, which are
-- rare: outcome gets one as well.
DROP INDEX audit_events_app;
DROP INDEX audit_events_actor;
DROP INDEX audit_events_action;
DROP INDEX audit_events_app_action;

-- Actions compare byte by byte whatever the database's collation, so that a
-- prefix filter (token.*) is an index range: ['token.', 'token/').
ALTER TABLE audit_events ALTER COLUMN action TYPE text COLLATE "C";

CREATE INDEX audit_events_app ON audit_events (app_id, occurred_at DESC, id DESC);
CREATE INDEX audit_events_actor ON audit_events (actor_name, occurred_at DESC, id DESC);
CREATE INDEX audit_events_action ON audit_events (action, occurred_at DESC, id DESC);
CREATE INDEX audit_events_app_action ON audit_events (app_id, action, occurred_at DESC, id DESC);
CREATE INDEX audit_events_outcome ON audit_events (outcome, occurred_at DESC, id DESC);

-- The signed head of the chain, re-signed by every sealing transaction. It
-- catches what checkpoints alone cannot: events appended after the last
-- checkpoint by someone who can compute SHA-256 but not the MAC, and events
-- removed from the end. One row, never more.
CREATE TABLE audit_chain_head (
    singleton  boolean     PRIMARY KEY DEFAULT true CHECK (singleton),
    chain_seq  bigint      NOT NULL CHECK (chain_seq > 0),
    hash       bytea       NOT NULL CHECK (octet_length(hash) = 32),
    mac        bytea       NOT NULL CHECK (octet_length(mac) = 32),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- What the audit page shows of the last verification.
ALTER TABLE audit_verifications
    ADD COLUMN first_seq   bigint,
    ADD COLUMN last_seq    bigint,
    ADD COLUMN checkpoints integer NOT NULL DEFAULT 0;
CREATE INDEX audit_verifications_latest ON audit_verifications (verified_at DESC, id DESC);

-- Free-text search (actor, target, action, user agent, client IP, details)
-- through a trigram index on exactly the expression that ListAudit searches.
-- pg_trgm ships with PostgreSQL and is trusted (the database owner may create
-- it); where it cannot be created the search still works, by scanning.
-- +goose StatementBegin
DO $$
BEGIN
    BEGIN
        CREATE EXTENSION IF NOT EXISTS pg_trgm;
    EXCEPTION WHEN OTHERS THEN
        RAISE WARNING 'pg_trgm unavailable (%): audit free-text search will not be indexed', SQLERRM;
    END;
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
        CREATE INDEX audit_events_text ON audit_events USING gin (
            (actor_name || E'\x1f' || target_id || E'\x1f' || action || E'\x1f' || user_agent
                || E'\x1f' || client_ip || E'\x1f' || details::text) gin_trgm_ops);
    END IF;
END;
$$;
-- +goose StatementEnd

-- +goose Down
-- pg_trgm stays: it may have been there before, or serve something else.
DROP INDEX IF EXISTS audit_events_text;
DROP INDEX audit_verifications_latest;
ALTER TABLE audit_verifications
    DROP COLUMN checkpoints,
    DROP COLUMN last_seq,
    DROP COLUMN first_seq;
DROP TABLE audit_chain_head;
DROP INDEX audit_events_outcome;
DROP INDEX audit_events_app_action;
DROP INDEX audit_events_action;
DROP INDEX audit_events_actor;
DROP INDEX audit_events_app;
ALTER TABLE audit_events ALTER COLUMN action TYPE text COLLATE "default";
CREATE INDEX audit_events_app ON audit_events (app_id, id DESC);
CREATE INDEX audit_events_actor ON audit_events (actor_name, id DESC);
CREATE INDEX audit_events_action ON audit_events (action, id DESC);
CREATE INDEX audit_events_app_action ON audit_events (app_id, action, id DESC);
