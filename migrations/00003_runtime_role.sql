-- +goose Up

-- Two roles use this schema. The owner (who runs these migrations) owns every
-- table and function; the runtime role that `console serve` connects as gets
-- exactly the privileges listed in runtime_privileges, from
-- grant_runtime_role(), which `console db grant ROLE` calls. It may append to
-- the audit trail and read it, never change or remove what is there: events
-- are sealed only through audit_seal() below, pruning is the owner's.

-- What the runtime role may do, one row per table or function, with why.
-- A migration that adds a table adds its row here and ends with
-- SELECT regrant_runtime_roles(); a test fails for a table without a row.
CREATE TABLE runtime_privileges (
    kind       text NOT NULL CHECK (kind IN ('table', 'function')),
    object     text PRIMARY KEY,
    privileges text NOT NULL,
    reason     text NOT NULL
);

-- The roles granted so far, so that later migrations can grant them again.
CREATE TABLE runtime_roles (
    role_name  text        PRIMARY KEY,
    granted_at timestamptz NOT NULL DEFAULT now()
);

INSERT INTO runtime_privileges (kind, object, privileges, reason) VALUES
    ('table', 'goose_db_version', 'SELECT', 'tell whether the schema is current (start-up and /readyz)'),
    ('table', 'operators', 'SELECT, INSERT, UPDATE',
        'sign-in, the first admin, operator management; UPDATE also for LOCK TABLE, which keeps the last admin'),
    ('table', 'projects', 'SELECT, INSERT, UPDATE', 'create, edit, disable and soft-delete projects (rows are never deleted)'),
    ('table', 'project_secrets', 'SELECT, INSERT, UPDATE, DELETE',
        'record, rotate and re-encrypt ServerSecrets; deleting a project deletes its secrets'),
    ('table', 'issued_tokens', 'SELECT, INSERT, UPDATE', 'issue, introspect and revoke tokens'),
    ('table', 'api_keys', 'SELECT, INSERT, UPDATE', 'create, authenticate (last use) and revoke API keys'),
    ('table', 'api_key_projects', 'SELECT, INSERT, DELETE', 'the projects of a key; deleting a project removes it from keys'),
    ('table', 'web_sessions', 'SELECT, INSERT, UPDATE, DELETE', 'sign-in, activity, sign-out and the purge of expired sessions'),
    ('table', 'login_failures', 'SELECT, INSERT, DELETE', 'sign-in throttling and its clean-up'),
    ('table', 'settings', 'SELECT, INSERT', 'the session cookie keys, generated once and shared by every instance'),
    ('table', 'audit_events',
        'SELECT, INSERT (actor_type, actor_id, actor_name, action, outcome, app_id, target_type, target_id, '
            || 'request_id, client_ip, user_agent, details, token_fingerprint)',
        'append events, unsealed and stamped by the database (no chain position, no chosen time); read, verify, export'),
    ('table', 'audit_checkpoints', 'SELECT', 'verify the chain (audit_seal writes periodic checkpoints)'),
    ('table', 'audit_chain_head', 'SELECT', 'verify the chain and log its head (audit_seal moves it)'),
    ('table', 'audit_verifications', 'SELECT, INSERT', 'record and show verification results'),
    ('function', 'audit_seal(bigint, bigint[], bytea[], bytea, bytea)', 'EXECUTE', 'seal pending events (the background sealer)');

-- +goose StatementBegin
CREATE FUNCTION grant_runtime_role(runtime text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    schema_owner oid := (SELECT relowner FROM pg_class WHERE oid = 'audit_events'::regclass);
    r record;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = runtime) THEN
        RAISE EXCEPTION 'role "%" does not exist', runtime USING ERRCODE = 'undefined_object';
    END IF;
    IF (SELECT rolsuper FROM pg_roles WHERE rolname = runtime) OR pg_has_role(runtime, schema_owner, 'MEMBER') THEN
        RAISE EXCEPTION 'role "%" is a superuser or owns the console''s schema: the runtime role must be another, ordinary role', runtime
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF has_schema_privilege(runtime, current_schema(), 'CREATE') OR has_database_privilege(runtime, current_database(), 'CREATE') THEN
        RAISE EXCEPTION 'role "%" may create objects in schema % or database %', runtime, current_schema(), current_database()
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = format('PostgreSQL before 15 lets everyone create in schema public: REVOKE CREATE ON SCHEMA %I FROM PUBLIC', current_schema());
    END IF;
    -- Start from nothing on the objects of this schema's owner, so that a
    -- privilege dropped from runtime_privileges is revoked too.
    FOR r IN
        SELECT 'TABLE ' || c.oid::regclass AS object FROM pg_class c
        WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p') AND pg_has_role(c.relowner, 'USAGE')
        UNION ALL
        SELECT 'FUNCTION ' || p.oid::regprocedure FROM pg_proc p
        WHERE p.pronamespace = current_schema()::regnamespace AND pg_has_role(p.proowner, 'USAGE')
    LOOP
        EXECUTE format('REVOKE ALL ON %s FROM %I', r.object, runtime);
    END LOOP;
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO %I', current_schema(), runtime);
    FOR r IN SELECT kind, object, privileges FROM runtime_privileges ORDER BY object LOOP
        IF r.kind = 'table' THEN
            EXECUTE format('GRANT %s ON TABLE %I TO %I', r.privileges, r.object, runtime);
        ELSE
            EXECUTE format('GRANT %s ON FUNCTION %s TO %I', r.privileges, r.object::regprocedure, runtime);
        END IF;
    END LOOP;
    INSERT INTO runtime_roles (role_name) VALUES (runtime)
        ON CONFLICT (role_name) DO UPDATE SET granted_at = now();
END;
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION regrant_runtime_roles() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM grant_runtime_role(role_name) FROM runtime_roles
        WHERE EXISTS (SELECT 1 FROM pg_roles WHERE rolname = role_name);
END;
$$;
-- +goose StatementEnd

-- audit_seal gives pending events their place in the chain: the events ids
-- (in chain order) get the positions after after_seq, which must be the end
-- of the chain, each linked to the one before; hashes are their hashes, which
-- only the caller can compute (the canonical form lives in Go, and a wrong
-- one shows in verification). The signed head moves to the new end, and a
-- periodic checkpoint is signed there when checkpoint_mac is given. Only
-- unsealed events are touched: a sealed event is never changed.
-- +goose StatementBegin
CREATE FUNCTION audit_seal(after_seq bigint, ids bigint[], hashes bytea[], head_mac bytea, checkpoint_mac bytea)
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

-- A SECURITY DEFINER function runs with a fixed search_path: this schema,
-- then pg_temp last, so that no caller's object can stand in for ours.
-- +goose StatementBegin
DO $$
BEGIN
    EXECUTE format('ALTER FUNCTION audit_seal(bigint, bigint[], bytea[], bytea, bytea) SET search_path = %I, pg_temp',
        current_schema());
END;
$$;
-- +goose StatementEnd

-- Functions are executable by PUBLIC unless revoked.
REVOKE ALL ON FUNCTION audit_seal(bigint, bigint[], bytea[], bytea, bytea) FROM PUBLIC;
REVOKE ALL ON FUNCTION grant_runtime_role(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION regrant_runtime_roles() FROM PUBLIC;

-- Rows still go only through an explicit prune, which sets
-- console.audit_prune locally, but now only for the table's owner: the
-- runtime role holds no DELETE, and this keeps the switch from becoming one
-- for a role granted DELETE by mistake. The delete trigger gets a function
-- of its own; audit_events_guard's DELETE branch is no longer reached.
-- +goose StatementBegin
CREATE FUNCTION audit_events_no_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('console.audit_prune', true) = 'on'
       AND pg_has_role((SELECT relowner FROM pg_class WHERE oid = TG_RELID), 'MEMBER') THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit_events is append-only: DELETE refused' USING ERRCODE = 'insufficient_privilege';
END;
$$;
-- +goose StatementEnd
DROP TRIGGER audit_events_no_delete ON audit_events;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_no_delete();

-- +goose Down
DROP TRIGGER audit_events_no_delete ON audit_events;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_guard();
DROP FUNCTION audit_events_no_delete();
-- The runtime roles keep their grants on the tables that stay; the owner
-- revokes them by hand (REVOKE ALL ON ALL TABLES IN SCHEMA public FROM role).
DROP FUNCTION audit_seal(bigint, bigint[], bytea[], bytea, bytea);
DROP FUNCTION regrant_runtime_roles();
DROP FUNCTION grant_runtime_role(text);
DROP TABLE runtime_roles;
DROP TABLE runtime_privileges;
