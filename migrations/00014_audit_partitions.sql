-- +goose Up

-- The trail is partitioned by month of occurred_at (UTC): audit_events and,
-- by the same month of the event, its place in the chain (audit_chain) and
-- its searchable text (audit_text), each month with indexes of its own, so
-- that a page, a free-text search or a prune of a month touches that month
-- only and retention drops whole months (store.PruneAudit). Months are
-- created ahead of time by the server (audit_partitions_ahead) and, for the
-- past, by this migration and the dev seed (audit_partitions_cover); a
-- default partition of each table takes what falls outside them, so that an
-- insert never fails for want of a month.
--
-- A partitioned table's keys include the partition key: the primary key of
-- audit_events is (id, occurred_at); ids stay unique, as the identity hands
-- each out once. The queues carry the event's occurred_at so that the sealer
-- and the text indexer find its month without looking in every one.

ALTER TABLE audit_unsealed ADD COLUMN occurred_at timestamptz;
UPDATE audit_unsealed q SET occurred_at = e.occurred_at FROM audit_events e WHERE e.id = q.event_id;
ALTER TABLE audit_unsealed ALTER COLUMN occurred_at SET NOT NULL;
ALTER TABLE audit_unindexed ADD COLUMN occurred_at timestamptz;
UPDATE audit_unindexed q SET occurred_at = e.occurred_at FROM audit_events e WHERE e.id = q.event_id;
ALTER TABLE audit_unindexed ALTER COLUMN occurred_at SET NOT NULL;

DROP VIEW audit_trail;
ALTER TABLE audit_events RENAME TO audit_events_unpartitioned;
ALTER TABLE audit_chain RENAME TO audit_chain_unpartitioned;
ALTER TABLE audit_text RENAME TO audit_text_unpartitioned;

CREATE TABLE audit_events (
    id                bigint      NOT NULL,
    occurred_at       timestamptz NOT NULL DEFAULT now(),
    actor_type        text        NOT NULL CHECK (actor_type IN ('operator', 'api_key', 'cli', 'system', 'anonymous')),
    actor_id          text        NOT NULL DEFAULT '',
    actor_name        text        NOT NULL DEFAULT '',
    action            text        COLLATE "C" NOT NULL CHECK (action ~ '^[a-z_]+(\.[a-z_]+)+$'),
    outcome           text        NOT NULL CHECK (outcome IN ('success', 'denied', 'error')),
    app_id            bigint,
    target_type       text        NOT NULL DEFAULT '',
    target_id         text        NOT NULL DEFAULT '',
    request_id        text        NOT NULL DEFAULT '',
    client_ip         text        NOT NULL DEFAULT '',
    user_agent        text        NOT NULL DEFAULT '',
    details           jsonb       NOT NULL DEFAULT '{}',
    token_fingerprint bytea       CHECK (octet_length(token_fingerprint) = 32),
    project_id        bigint,
    canonical_version smallint    NOT NULL DEFAULT 2 CHECK (canonical_version IN (1, 2)),
    PRIMARY KEY (id, occurred_at)
) PARTITION BY RANGE (occurred_at);

CREATE TABLE audit_chain (
    chain_seq   bigint      NOT NULL CHECK (chain_seq > 0),
    event_id    bigint      NOT NULL,
    occurred_at timestamptz NOT NULL, -- the event's, which picks the month
    prev_hash   bytea       NOT NULL CHECK (octet_length(prev_hash) = 32),
    hash        bytea       NOT NULL CHECK (octet_length(hash) = 32),
    sealed_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (chain_seq, occurred_at),
    UNIQUE (event_id, occurred_at)
) PARTITION BY RANGE (occurred_at);

CREATE TABLE audit_text (
    event_id    bigint      NOT NULL,
    occurred_at timestamptz NOT NULL,
    body        text        NOT NULL,
    PRIMARY KEY (event_id, occurred_at)
) PARTITION BY RANGE (occurred_at);

CREATE TABLE audit_events_default PARTITION OF audit_events DEFAULT;
CREATE TABLE audit_chain_default PARTITION OF audit_chain DEFAULT;
CREATE TABLE audit_text_default PARTITION OF audit_text DEFAULT;

-- audit_partitions_cover creates the partitions of every month from first's
-- through last's (UTC) that are missing, for the three tables at once, and
-- says how many months it added. A month the default partitions already hold
-- rows of is left there, with a warning: creating it would fail.
-- +goose StatementBegin
CREATE FUNCTION audit_partitions_cover(first timestamptz, last timestamptz) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
    m     timestamptz := date_trunc('month', first, 'UTC');
    upper timestamptz;
    added integer := 0;
    t     text;
BEGIN
    IF first IS NULL OR last IS NULL OR last < first OR last > first + interval '100 years' THEN
        RAISE EXCEPTION 'audit_partitions_cover: want first <= last, at most 100 years apart' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    WHILE m <= last LOOP
        upper := (m AT TIME ZONE 'UTC' + interval '1 month') AT TIME ZONE 'UTC';
        IF to_regclass(format('audit_events_p%s', to_char(m AT TIME ZONE 'UTC', 'YYYYMM'))) IS NULL THEN
            IF EXISTS (SELECT 1 FROM audit_events_default WHERE occurred_at >= m AND occurred_at < upper)
               OR EXISTS (SELECT 1 FROM audit_chain_default WHERE occurred_at >= m AND occurred_at < upper)
               OR EXISTS (SELECT 1 FROM audit_text_default WHERE occurred_at >= m AND occurred_at < upper) THEN
                RAISE WARNING 'audit_partitions_cover: the default partitions hold events of %; that month stays there', to_char(m AT TIME ZONE 'UTC', 'YYYY-MM');
            ELSE
                FOREACH t IN ARRAY ARRAY['audit_events', 'audit_chain', 'audit_text'] LOOP
                    EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)',
                        t || '_p' || to_char(m AT TIME ZONE 'UTC', 'YYYYMM'), t, m, upper);
                END LOOP;
                added := added + 1;
            END IF;
        END IF;
        m := upper;
    END LOOP;
    RETURN added;
END;
$$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION audit_partitions_cover(timestamptz, timestamptz) FROM PUBLIC;

-- audit_partitions_ahead is what the server runs (at start and daily): the
-- months from the current one through months ahead, at most 24.
-- +goose StatementBegin
CREATE FUNCTION audit_partitions_ahead(months integer) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN
    IF months IS NULL OR months < 0 OR months > 24 THEN
        RAISE EXCEPTION 'audit_partitions_ahead: want 0 to 24 months' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN audit_partitions_cover(now(), (date_trunc('month', now(), 'UTC') AT TIME ZONE 'UTC' + make_interval(months => months)) AT TIME ZONE 'UTC');
END;
$$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION audit_partitions_ahead(integer) FROM PUBLIC;
-- +goose StatementBegin
DO $$
BEGIN
    EXECUTE format('ALTER FUNCTION audit_partitions_cover(timestamptz, timestamptz) SET search_path = %I, pg_temp', current_schema());
    EXECUTE format('ALTER FUNCTION audit_partitions_ahead(integer) SET search_path = %I, pg_temp', current_schema());
    PERFORM audit_partitions_cover(COALESCE((SELECT min(occurred_at) FROM audit_events_unpartitioned), now()), now() + interval '3 months');
END;
$$;
-- +goose StatementEnd

INSERT INTO audit_events OVERRIDING SYSTEM VALUE SELECT * FROM audit_events_unpartitioned;
INSERT INTO audit_chain (chain_seq, event_id, occurred_at, prev_hash, hash, sealed_at)
    SELECT c.chain_seq, c.event_id, e.occurred_at, c.prev_hash, c.hash, c.sealed_at
    FROM audit_chain_unpartitioned c JOIN audit_events_unpartitioned e ON e.id = c.event_id;
INSERT INTO audit_text (event_id, occurred_at, body)
    SELECT t.event_id, e.occurred_at, t.body
    FROM audit_text_unpartitioned t JOIN audit_events_unpartitioned e ON e.id = t.event_id;

-- +goose StatementBegin
DO $$
BEGIN
    EXECUTE format('ALTER TABLE audit_events ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (START WITH %s)',
        COALESCE((SELECT last_value + 1 FROM audit_events_id_seq), 1));
END;
$$;
-- +goose StatementEnd
-- The sequence's name is taken until the old table goes.
DROP TABLE audit_events_unpartitioned, audit_chain_unpartitioned, audit_text_unpartitioned;
-- +goose StatementBegin
DO $$
BEGIN
    EXECUTE format('ALTER SEQUENCE %s RENAME TO audit_events_id_seq', pg_get_serial_sequence('audit_events', 'id'));
END;
$$;
-- +goose StatementEnd

CREATE INDEX audit_events_app ON audit_events (app_id, occurred_at DESC, id DESC);
CREATE INDEX audit_events_actor ON audit_events (actor_name, occurred_at DESC, id DESC);
CREATE INDEX audit_events_action ON audit_events (action, occurred_at DESC, id DESC);
CREATE INDEX audit_events_app_action ON audit_events (app_id, action, occurred_at DESC, id DESC);
CREATE INDEX audit_events_occurred ON audit_events (occurred_at DESC, id DESC);
CREATE INDEX audit_events_outcome ON audit_events (outcome, occurred_at DESC, id DESC);
CREATE INDEX audit_events_fingerprint ON audit_events (token_fingerprint) WHERE token_fingerprint IS NOT NULL;
CREATE INDEX audit_events_project ON audit_events (project_id, occurred_at DESC, id DESC) WHERE project_id IS NOT NULL;
CREATE INDEX audit_events_project_action ON audit_events (project_id, action, occurred_at DESC, id DESC) WHERE project_id IS NOT NULL;
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

CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_guard();
CREATE TRIGGER audit_events_scope_fixed BEFORE UPDATE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_scope_fixed();
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_no_delete();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_no_truncate();
CREATE TRIGGER audit_chain_guard BEFORE UPDATE OR DELETE ON audit_chain
    FOR EACH ROW EXECUTE FUNCTION audit_rows_guard();
CREATE TRIGGER audit_chain_no_truncate BEFORE TRUNCATE ON audit_chain
    FOR EACH STATEMENT EXECUTE FUNCTION audit_rows_guard();
CREATE TRIGGER audit_text_guard BEFORE UPDATE OR DELETE ON audit_text
    FOR EACH ROW EXECUTE FUNCTION audit_rows_guard();
CREATE TRIGGER audit_text_no_truncate BEFORE TRUNCATE ON audit_text
    FOR EACH STATEMENT EXECUTE FUNCTION audit_rows_guard();

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION audit_events_queue() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN
    INSERT INTO audit_unsealed (event_id, occurred_at) SELECT id, occurred_at FROM inserted;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER audit_events_queue AFTER INSERT ON audit_events
    REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION audit_events_queue();

CREATE VIEW audit_trail AS
    SELECT e.*, c.chain_seq, c.prev_hash, c.hash, c.sealed_at
    FROM audit_events e LEFT JOIN audit_chain c ON c.event_id = e.id AND c.occurred_at = e.occurred_at;

-- audit_seal as migration 00013 made it; the chain row and the text
-- indexer's queue take the event's month from the seal queue.
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
    IF (SELECT count(DISTINCT x) FROM unnest(ids) AS x) <> n THEN
        RAISE EXCEPTION 'audit_seal: % of the % events are repeated; a sealed event never changes', n - (SELECT count(DISTINCT x) FROM unnest(ids) AS x), n
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    WITH taken AS (
        DELETE FROM audit_unsealed WHERE event_id = ANY(ids) RETURNING event_id, occurred_at
    ), chained AS (
        INSERT INTO audit_chain (chain_seq, event_id, occurred_at, prev_hash, hash)
            SELECT tip_seq + x.pos, x.id, t.occurred_at, COALESCE(lag(x.hash) OVER (ORDER BY x.pos), tip_hash), x.hash
            FROM unnest(ids, hashes) WITH ORDINALITY AS x(id, hash, pos) JOIN taken t ON t.event_id = x.id
            RETURNING event_id, occurred_at
    ), queued AS (
        INSERT INTO audit_unindexed (event_id, occurred_at) SELECT event_id, occurred_at FROM chained
    )
    SELECT count(*) INTO sealed FROM taken;
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

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION audit_index_text(max integer) RETURNS integer LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
    taken integer;
BEGIN
    IF max IS NULL OR max < 1 THEN
        RAISE EXCEPTION 'audit_index_text: want a positive batch size' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    WITH batch AS (
        DELETE FROM audit_unindexed WHERE event_id IN (
            SELECT event_id FROM audit_unindexed ORDER BY event_id LIMIT max FOR UPDATE SKIP LOCKED)
        RETURNING event_id, occurred_at
    ), added AS (
        INSERT INTO audit_text (event_id, occurred_at, body)
            SELECT e.id, e.occurred_at, e.actor_name || E'\x1f' || e.target_id || E'\x1f' || e.action || E'\x1f' || e.user_agent
                || E'\x1f' || e.client_ip || E'\x1f' || e.details::text
            FROM batch JOIN audit_events e ON e.id = batch.event_id AND e.occurred_at = batch.occurred_at
    )
    SELECT count(*) INTO taken FROM batch;
    RETURN taken;
END;
$$;
-- +goose StatementEnd

INSERT INTO runtime_privileges (kind, object, privileges, reason) VALUES
    ('function', 'audit_partitions_ahead(integer)', 'EXECUTE', 'create the audit trail''s monthly partitions ahead of time (at start and daily)');
SELECT regrant_runtime_roles();
ANALYZE audit_events, audit_chain, audit_text;

-- +goose Down
DELETE FROM runtime_privileges WHERE object = 'audit_partitions_ahead(integer)';
DROP VIEW audit_trail;
ALTER TABLE audit_events RENAME TO audit_events_partitioned;
ALTER TABLE audit_chain RENAME TO audit_chain_partitioned;
ALTER TABLE audit_text RENAME TO audit_text_partitioned;
CREATE TABLE audit_events (LIKE audit_events_partitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
INSERT INTO audit_events SELECT * FROM audit_events_partitioned;
CREATE TABLE audit_chain (
    chain_seq bigint      PRIMARY KEY CHECK (chain_seq > 0),
    event_id  bigint      NOT NULL UNIQUE,
    prev_hash bytea       NOT NULL CHECK (octet_length(prev_hash) = 32),
    hash      bytea       NOT NULL CHECK (octet_length(hash) = 32),
    sealed_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO audit_chain (chain_seq, event_id, prev_hash, hash, sealed_at)
    SELECT chain_seq, event_id, prev_hash, hash, sealed_at FROM audit_chain_partitioned;
CREATE TABLE audit_text (
    event_id bigint PRIMARY KEY,
    body     text   NOT NULL
);
INSERT INTO audit_text (event_id, body) SELECT event_id, body FROM audit_text_partitioned;
-- +goose StatementBegin
DO $$
BEGIN
    EXECUTE format('ALTER TABLE audit_events ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (START WITH %s)',
        COALESCE((SELECT last_value + 1 FROM audit_events_id_seq), 1));
END;
$$;
-- +goose StatementEnd
DROP TABLE audit_events_partitioned, audit_chain_partitioned, audit_text_partitioned;
-- +goose StatementBegin
DO $$
BEGIN
    EXECUTE format('ALTER SEQUENCE %s RENAME TO audit_events_id_seq', pg_get_serial_sequence('audit_events', 'id'));
END;
$$;
-- +goose StatementEnd
DROP FUNCTION audit_partitions_ahead(integer);
DROP FUNCTION audit_partitions_cover(timestamptz, timestamptz);
ALTER TABLE audit_events ADD PRIMARY KEY (id);
CREATE INDEX audit_events_app ON audit_events (app_id, occurred_at DESC, id DESC);
CREATE INDEX audit_events_actor ON audit_events (actor_name, occurred_at DESC, id DESC);
CREATE INDEX audit_events_action ON audit_events (action, occurred_at DESC, id DESC);
CREATE INDEX audit_events_app_action ON audit_events (app_id, action, occurred_at DESC, id DESC);
CREATE INDEX audit_events_occurred ON audit_events (occurred_at DESC, id DESC);
CREATE INDEX audit_events_outcome ON audit_events (outcome, occurred_at DESC, id DESC);
CREATE INDEX audit_events_fingerprint ON audit_events (token_fingerprint) WHERE token_fingerprint IS NOT NULL;
CREATE INDEX audit_events_project ON audit_events (project_id, occurred_at DESC, id DESC) WHERE project_id IS NOT NULL;
CREATE INDEX audit_events_project_action ON audit_events (project_id, action, occurred_at DESC, id DESC) WHERE project_id IS NOT NULL;
-- +goose StatementBegin
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
        CREATE INDEX audit_text_trgm ON audit_text USING gin (body gin_trgm_ops);
    END IF;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_guard();
CREATE TRIGGER audit_events_scope_fixed BEFORE UPDATE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_scope_fixed();
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_no_delete();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_no_truncate();
CREATE TRIGGER audit_chain_guard BEFORE UPDATE OR DELETE ON audit_chain
    FOR EACH ROW EXECUTE FUNCTION audit_rows_guard();
CREATE TRIGGER audit_chain_no_truncate BEFORE TRUNCATE ON audit_chain
    FOR EACH STATEMENT EXECUTE FUNCTION audit_rows_guard();
CREATE TRIGGER audit_text_guard BEFORE UPDATE OR DELETE ON audit_text
    FOR EACH ROW EXECUTE FUNCTION audit_rows_guard();
CREATE TRIGGER audit_text_no_truncate BEFORE TRUNCATE ON audit_text
    FOR EACH STATEMENT EXECUTE FUNCTION audit_rows_guard();
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION audit_events_queue() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN
    INSERT INTO audit_unsealed (event_id) SELECT id FROM inserted;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd
ALTER TABLE audit_unsealed DROP COLUMN occurred_at;
ALTER TABLE audit_unindexed DROP COLUMN occurred_at;
CREATE TRIGGER audit_events_queue AFTER INSERT ON audit_events
    REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION audit_events_queue();
CREATE VIEW audit_trail AS
    SELECT e.*, c.chain_seq, c.prev_hash, c.hash, c.sealed_at
    FROM audit_events e LEFT JOIN audit_chain c ON c.event_id = e.id;
-- audit_seal and audit_index_text as migration 00013 made them.
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
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION audit_index_text(max integer) RETURNS integer LANGUAGE plpgsql SECURITY DEFINER AS $$
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
SELECT regrant_runtime_roles();
