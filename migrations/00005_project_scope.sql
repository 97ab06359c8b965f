-- +goose Up

-- An AppID names a project only while it lives: once a project is deleted,
-- its AppID may be given to a new project, which must start with an empty
-- history. Token records already name their project (issued_tokens.project_id);
-- audit events now do too. project_id is the project an event is about (NULL
-- for events about none, such as sign-ins, or about an AppID without a live
-- project, such as a denied request for it). No foreign key: an audit insert
-- must not take locks on, or fail because of, the projects table.
--
-- canonical_version is the layout in which the event's hash was computed
-- (store.appendCanonical): 1 for the events already written, which were
-- hashed without a project, 2 for every later one, which covers project_id.
-- The database stamps it (the runtime role may not choose it), and each
-- layout opens with its own tag, so that changing either column shows in
-- verification.
ALTER TABLE audit_events
    ADD COLUMN project_id bigint,
    ADD COLUMN canonical_version smallint NOT NULL DEFAULT 1 CHECK (canonical_version IN (1, 2));
ALTER TABLE audit_events ALTER COLUMN canonical_version SET DEFAULT 2;

-- The events written so far get the project that had their AppID when they
-- occurred (a project's create and delete events share its created_at and
-- deleted_at: one transaction, one now()). Their hashes do not cover it:
-- they were computed before it existed.
ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update;
UPDATE audit_events e SET project_id = m.project_id
FROM (
    SELECT o.id, (SELECT p.id FROM projects p
                  WHERE p.app_id = o.app_id AND p.created_at <= o.occurred_at
                    AND (p.deleted_at IS NULL OR o.occurred_at <= p.deleted_at)
                  ORDER BY p.created_at DESC, p.id DESC LIMIT 1) AS project_id
    FROM audit_events o WHERE o.app_id IS NOT NULL
) m
WHERE e.id = m.id AND m.project_id IS NOT NULL;
ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_update;

-- What an API key reads: one project's events, newest first, and by action.
CREATE INDEX audit_events_project ON audit_events (project_id, occurred_at DESC, id DESC) WHERE project_id IS NOT NULL;
CREATE INDEX audit_events_project_action ON audit_events (project_id, action, occurred_at DESC, id DESC) WHERE project_id IS NOT NULL;

-- Sealing may set the chain columns and nothing else (audit_events_guard);
-- the new columns, which that guard does not know, are never changed, not
-- even while sealing. Triggers only ever refuse: no UPDATE gets past both.
-- +goose StatementBegin
CREATE FUNCTION audit_events_scope_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (NEW.project_id, NEW.canonical_version) IS DISTINCT FROM (OLD.project_id, OLD.canonical_version) THEN
        RAISE EXCEPTION 'audit_events is append-only: UPDATE of project_id or canonical_version refused'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER audit_events_scope_fixed BEFORE UPDATE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_scope_fixed();

UPDATE runtime_privileges SET privileges =
    'SELECT, INSERT (actor_type, actor_id, actor_name, action, outcome, app_id, target_type, target_id, '
        || 'request_id, client_ip, user_agent, details, token_fingerprint, project_id)'
    WHERE object = 'audit_events';
SELECT regrant_runtime_roles();

-- +goose Down
-- Events hashed in layout 2 no longer verify once project_id is gone.
UPDATE runtime_privileges SET privileges =
    'SELECT, INSERT (actor_type, actor_id, actor_name, action, outcome, app_id, target_type, target_id, '
        || 'request_id, client_ip, user_agent, details, token_fingerprint)'
    WHERE object = 'audit_events';
DROP TRIGGER audit_events_scope_fixed ON audit_events;
DROP FUNCTION audit_events_scope_fixed();
DROP INDEX audit_events_project_action;
DROP INDEX audit_events_project;
ALTER TABLE audit_events DROP COLUMN canonical_version, DROP COLUMN project_id;
SELECT regrant_runtime_roles();
