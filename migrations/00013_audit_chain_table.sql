-- +goose Up

-- Sealing becomes an insert. An event's place in the hash chain (chain_seq,
-- prev_hash, hash, sealed_at) moves out of its row into audit_chain, which
-- the sealer appends to: sealing no longer rewrites the event and every
-- index entry of it. Events wait for their seal in audit_unsealed, which a
-- trigger fills as they are inserted (what `WHERE hash IS NULL` found), and
-- the free-text index moves to audit_text, which a text indexer of its own
-- fills behind the sealer from a queue of its own, audit_unindexed
-- (audit_index_text): the trigram index is maintained neither on the path
-- that issues tokens nor by sealing.
-- audit_trail is what readers see: every event with its place in the chain.

-- A trail whose seal markers disagree was tampered with: migrating it would
-- hide the evidence. `console audit verify` on the previous release says where.
-- +goose StatementBegin
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM audit_events WHERE (hash IS NULL) <> (sealed_at IS NULL)) THEN
        RAISE EXCEPTION 'audit_events has events sealed without a seal time or a seal time without a chain position: run console audit verify and resolve the break first'
            USING ERRCODE = 'data_exception';
    END IF;
END;
$$;
-- +goose StatementEnd

CREATE TABLE audit_chain (
    chain_seq bigint      PRIMARY KEY CHECK (chain_seq > 0),
    event_id  bigint      NOT NULL UNIQUE,
    prev_hash bytea       NOT NULL CHECK (octet_length(prev_hash) = 32),
    hash      bytea       NOT NULL CHECK (octet_length(hash) = 32),
    sealed_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO audit_chain (chain_seq, event_id, prev_hash, hash, sealed_at)
    SELECT chain_seq, id, prev_hash, hash, sealed_at FROM audit_events WHERE chain_seq IS NOT NULL;

CREATE TABLE audit_unsealed (
    event_id bigint PRIMARY KEY
);
INSERT INTO audit_unsealed (event_id) SELECT id FROM audit_events WHERE chain_seq IS NULL;

-- What free text searches, per sealed event: exactly store.auditTextExpr.
CREATE TABLE audit_text (
    event_id bigint PRIMARY KEY,
    body     text   NOT NULL
);
INSERT INTO audit_text (event_id, body)
    SELECT id, actor_name || E'\x1f' || target_id || E'\x1f' || action || E'\x1f' || user_agent
        || E'\x1f' || client_ip || E'\x1f' || details::text
    FROM audit_events WHERE chain_seq IS NOT NULL;
DROP INDEX IF EXISTS audit_events_text;

-- Sealed events whose text is not in audit_text yet.
CREATE TABLE audit_unindexed (
    event_id bigint PRIMARY KEY
);
-- +goose StatementBegin
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
        CREATE INDEX audit_text_trgm ON audit_text USING gin (body gin_trgm_ops);
    ELSE
        RAISE WARNING 'pg_trgm unavailable: audit free-text search will not be indexed';
    END IF;
END;
$$;
-- +goose StatementEnd

DROP INDEX audit_events_unsealed;
ALTER TABLE audit_events DROP COLUMN chain_seq, DROP COLUMN prev_hash, DROP COLUMN hash, DROP COLUMN sealed_at;

-- An event is never changed now, not even to seal it.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION audit_events_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only: UPDATE refused' USING ERRCODE = 'insufficient_privilege';
END;
$$;
-- +goose StatementEnd

-- Every event inserted waits for its seal. SECURITY DEFINER: the runtime
-- role may not write the queue itself, only add to the trail.
-- +goose StatementBegin
CREATE FUNCTION audit_events_queue() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN
    INSERT INTO audit_unsealed (event_id) SELECT id FROM inserted;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd
-- +goose StatementBegin
DO $$
BEGIN
    EXECUTE format('ALTER FUNCTION audit_events_queue() SET search_path = %I, pg_temp', current_schema());
END;
$$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION audit_events_queue() FROM PUBLIC;
CREATE TRIGGER audit_events_queue AFTER INSERT ON audit_events
    REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION audit_events_queue();

-- The chain and the text are append-only like the events: rows go only
-- through an explicit prune by the owner (console.audit_prune).
-- +goose StatementBegin
CREATE FUNCTION audit_rows_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('console.audit_prune', true) = 'on'
       AND pg_has_role((SELECT relowner FROM pg_class WHERE oid = TG_RELID), 'MEMBER') THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER audit_chain_guard BEFORE UPDATE OR DELETE ON audit_chain
    FOR EACH ROW EXECUTE FUNCTION audit_rows_guard();
CREATE TRIGGER audit_chain_no_truncate BEFORE TRUNCATE ON audit_chain
    FOR EACH STATEMENT EXECUTE FUNCTION audit_rows_guard();
CREATE TRIGGER audit_text_guard BEFORE UPDATE OR DELETE ON audit_text
    FOR EACH ROW EXECUTE FUNCTION audit_rows_guard();
CREATE TRIGGER audit_text_no_truncate BEFORE TRUNCATE ON audit_text
    FOR EACH STATEMENT EXECUTE FUNCTION audit_rows_guard();

CREATE VIEW audit_trail AS
    SELECT e.*, c.chain_seq, c.prev_hash, c.hash, c.sealed_at
    FROM audit_events e LEFT JOIN audit_chain c ON c.event_id = e.id;

-- audit_seal now appends the events given, each of which must be waiting
-- for its seal, to the chain, takes them off the seal queue and puts them on
-- the text indexer's; the signed head and checkpoints move as before.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION audit_seal(after_seq bigint, ids bigint[], hashes bytea[], head_mac bytea, checkpoint_mac bytea)
RETURNS integer LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
    n         integer := cardinality(ids);
    tip_seq   bigint;
    tip_hash  bytea;
    head_seq  bigint;
    last_hash bytea;
    sealed    integer;
BEGIN
    IF n IS NULL OR n = 0 OR array_ndims(ids) <> 1 OR array_ndims(hashes) IS DISTINCT FROM 1
       OR cardinality(hashes) IS DISTINCT FROM n OR array_position(ids, NULL) IS NOT NULL
       OR EXISTS (SELECT 1 FROM unnest(hashes) AS h WHERE h IS NULL OR octet_length(h) <> 32)
       OR octet_length(head_mac) IS DISTINCT FROM 32 OR octet_length(checkpoint_mac) <> 32 THEN
        RAISE EXCEPTION 'audit_seal: want as many event ids as 32-byte hashes and 32-byte MACs'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- The sealing lock of the Go sealer (store.auditSealLock): one sealer at a time.
    PERFORM pg_advisory_xact_lock(8818999652145263665);
    SELECT chain_seq, hash INTO tip_seq, tip_hash FROM audit_chain ORDER BY chain_seq DESC LIMIT 1;
    IF NOT FOUND THEN
        SELECT chain_seq, hash INTO tip_seq, tip_hash FROM audit_checkpoints
            WHERE kind = 'prune' ORDER BY chain_seq DESC LIMIT 1;
        IF NOT FOUND THEN
            tip_seq := 0;
            tip_hash := decode(repeat('00', 32), 'hex');
        END IF;
    END IF;
    SELECT chain_seq INTO head_seq FROM audit_chain_head;
    IF after_seq IS DISTINCT FROM tip_seq OR head_seq IS DISTINCT FROM NULLIF(tip_seq, 0) THEN
        RAISE EXCEPTION 'audit_seal: the chain ends at seq % and its signed head is at seq %, not at %', tip_seq, head_seq, after_seq
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    DELETE FROM audit_unsealed WHERE event_id = ANY(ids);
    GET DIAGNOSTICS sealed = ROW_COUNT;
    IF sealed <> n THEN
        RAISE EXCEPTION 'audit_seal: % of the % events are missing, repeated or already sealed; a sealed event never changes', n - sealed, n
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    INSERT INTO audit_chain (chain_seq, event_id, prev_hash, hash)
        SELECT tip_seq + x.pos, x.id, COALESCE(lag(x.hash) OVER (ORDER BY x.pos), tip_hash), x.hash
        FROM unnest(ids, hashes) WITH ORDINALITY AS x(id, hash, pos);
    INSERT INTO audit_unindexed (event_id) SELECT unnest(ids);
    last_hash := hashes[array_upper(hashes, 1)];
    INSERT INTO audit_chain_head (chain_seq, hash, mac) VALUES (tip_seq + n, last_hash, head_mac)
        ON CONFLICT (singleton) DO UPDATE SET chain_seq = EXCLUDED.chain_seq, hash = EXCLUDED.hash, mac = EXCLUDED.mac, updated_at = now();
    IF checkpoint_mac IS NOT NULL THEN
        INSERT INTO audit_checkpoints (chain_seq, hash, mac, kind) VALUES (tip_seq + n, last_hash, checkpoint_mac, 'periodic')
            ON CONFLICT (chain_seq) DO NOTHING;
    END IF;
    RETURN n;
END;
$$;
-- +goose StatementEnd

-- audit_index_text adds the text of up to max sealed events of the text
-- indexer's queue to audit_text, oldest first, and takes them off it; it
-- says how many it took. Indexers at once take different events.
-- +goose StatementBegin
CREATE FUNCTION audit_index_text(max integer) RETURNS integer LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
    taken integer;
BEGIN
    IF max IS NULL OR max < 1 THEN
        RAISE EXCEPTION 'audit_index_text: want a positive batch size' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    WITH batch AS (
        DELETE FROM audit_unindexed WHERE event_id IN (
            SELECT event_id FROM audit_unindexed ORDER BY event_id LIMIT max FOR UPDATE SKIP LOCKED)
        RETURNING event_id
    ), added AS (
        INSERT INTO audit_text (event_id, body)
            SELECT e.id, e.actor_name || E'\x1f' || e.target_id || E'\x1f' || e.action || E'\x1f' || e.user_agent
                || E'\x1f' || e.client_ip || E'\x1f' || e.details::text
            FROM batch JOIN audit_events e ON e.id = batch.event_id
    )
    SELECT count(*) INTO taken FROM batch;
    RETURN taken;
END;
$$;
-- +goose StatementEnd
-- +goose StatementBegin
DO $$
BEGIN
    EXECUTE format('ALTER FUNCTION audit_index_text(integer) SET search_path = %I, pg_temp', current_schema());
END;
$$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION audit_index_text(integer) FROM PUBLIC;

INSERT INTO runtime_privileges (kind, object, privileges, reason) VALUES
    ('table', 'audit_chain', 'SELECT', 'verify, page and stream the chain (audit_seal appends to it)'),
    ('table', 'audit_unsealed', 'SELECT', 'find the events waiting for their seal (a trigger adds them, audit_seal takes them off)'),
    ('table', 'audit_text', 'SELECT', 'free-text search of sealed events (audit_index_text adds them)'),
    ('table', 'audit_unindexed', 'SELECT', 'the sealed events free text finds by reading them, until the text indexer adds them to audit_text'),
    ('function', 'audit_index_text(integer)', 'EXECUTE', 'the text indexer: makes sealed events searchable, in chain order'),
    ('table', 'audit_trail', 'SELECT', 'read events with their place in the chain (a view)');
SELECT regrant_runtime_roles();

-- +goose Down
DELETE FROM runtime_privileges WHERE object IN ('audit_chain', 'audit_unsealed', 'audit_text', 'audit_unindexed',
    'audit_trail', 'audit_index_text(integer)');
DROP FUNCTION audit_index_text(integer);
DROP VIEW audit_trail;
DROP TRIGGER audit_events_queue ON audit_events;
DROP FUNCTION audit_events_queue();
ALTER TABLE audit_events
    ADD COLUMN chain_seq bigint UNIQUE,
    ADD COLUMN prev_hash bytea,
    ADD COLUMN hash      bytea,
    ADD COLUMN sealed_at timestamptz,
    ADD CHECK ((chain_seq IS NULL) = (hash IS NULL) AND (hash IS NULL) = (prev_hash IS NULL));
ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update;
UPDATE audit_events e SET chain_seq = c.chain_seq, prev_hash = c.prev_hash, hash = c.hash, sealed_at = c.sealed_at
    FROM audit_chain c WHERE c.event_id = e.id;
ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_update;
CREATE INDEX audit_events_unsealed ON audit_events (id) WHERE hash IS NULL;
-- +goose StatementBegin
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
        CREATE INDEX audit_events_text ON audit_events USING gin (
            (actor_name || E'\x1f' || target_id || E'\x1f' || action || E'\x1f' || user_agent
                || E'\x1f' || client_ip || E'\x1f' || details::text) gin_trgm_ops);
    END IF;
END;
$$;
-- +goose StatementEnd
DROP TABLE audit_unindexed;
DROP TABLE audit_text;
DROP TABLE audit_unsealed;
DROP TABLE audit_chain;
DROP FUNCTION audit_rows_guard();
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION audit_events_guard() RETURNS trigger LANGUAGE plpgsql AS $$
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
-- audit_seal as migrations/00003 made it.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION audit_seal(after_seq bigint, ids bigint[], hashes bytea[], head_mac bytea, checkpoint_mac bytea)
RETURNS integer LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
    n         integer := cardinality(ids);
    tip_seq   bigint;
    tip_hash  bytea;
    head_seq  bigint;
    last_hash bytea;
    sealed    integer;
BEGIN
    IF n IS NULL OR n = 0 OR array_ndims(ids) <> 1 OR array_ndims(hashes) IS DISTINCT FROM 1
       OR cardinality(hashes) IS DISTINCT FROM n OR array_position(ids, NULL) IS NOT NULL
       OR EXISTS (SELECT 1 FROM unnest(hashes) AS h WHERE h IS NULL OR octet_length(h) <> 32)
       OR octet_length(head_mac) IS DISTINCT FROM 32 OR octet_length(checkpoint_mac) <> 32 THEN
        RAISE EXCEPTION 'audit_seal: want as many event ids as 32-byte hashes and 32-byte MACs'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM pg_advisory_xact_lock(8818999652145263665);
    SELECT chain_seq, hash INTO tip_seq, tip_hash FROM audit_events
        WHERE chain_seq IS NOT NULL ORDER BY chain_seq DESC LIMIT 1;
    IF NOT FOUND THEN
        SELECT chain_seq, hash INTO tip_seq, tip_hash FROM audit_checkpoints
            WHERE kind = 'prune' ORDER BY chain_seq DESC LIMIT 1;
        IF NOT FOUND THEN
            tip_seq := 0;
            tip_hash := decode(repeat('00', 32), 'hex');
        END IF;
    END IF;
    SELECT chain_seq INTO head_seq FROM audit_chain_head;
    IF after_seq IS DISTINCT FROM tip_seq OR head_seq IS DISTINCT FROM NULLIF(tip_seq, 0) THEN
        RAISE EXCEPTION 'audit_seal: the chain ends at seq % and its signed head is at seq %, not at %', tip_seq, head_seq, after_seq
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    UPDATE audit_events e
        SET chain_seq = tip_seq + u.pos, prev_hash = COALESCE(u.prev, tip_hash), hash = u.hash, sealed_at = now()
        FROM (SELECT x.id, x.hash, x.pos, lag(x.hash) OVER (ORDER BY x.pos) AS prev
              FROM unnest(ids, hashes) WITH ORDINALITY AS x(id, hash, pos)) u
        WHERE e.id = u.id AND e.hash IS NULL;
    GET DIAGNOSTICS sealed = ROW_COUNT;
    IF sealed <> n THEN
        RAISE EXCEPTION 'audit_seal: % of the % events are missing, repeated or already sealed; a sealed event never changes', n - sealed, n
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    last_hash := hashes[array_upper(hashes, 1)];
    INSERT INTO audit_chain_head (chain_seq, hash, mac) VALUES (tip_seq + n, last_hash, head_mac)
        ON CONFLICT (singleton) DO UPDATE SET chain_seq = EXCLUDED.chain_seq, hash = EXCLUDED.hash, mac = EXCLUDED.mac, updated_at = now();
    IF checkpoint_mac IS NOT NULL THEN
        INSERT INTO audit_checkpoints (chain_seq, hash, mac, kind) VALUES (tip_seq + n, last_hash, checkpoint_mac, 'periodic')
            ON CONFLICT (chain_seq) DO NOTHING;
    END IF;
    RETURN n;
END;
$$;
-- +goose StatementEnd
SELECT regrant_runtime_roles();
