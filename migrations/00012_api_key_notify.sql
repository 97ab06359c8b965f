-- +goose Up

-- Every instance keeps the API keys it verified in memory (store.RunAPIKeyCache)
-- and forgets one as soon as it changes: any change to a key (revoked, expiry
-- or scopes changed, deleted), to its projects, or a project deleted (which
-- takes it from every key) is announced on channel console_api_keys, with
-- the key's prefix, or '*' for every key. NOTIFY is delivered when the
-- change commits, by whichever role or path made it.
-- +goose StatementBegin
CREATE FUNCTION api_keys_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'api_keys' THEN
        IF TG_OP = 'UPDATE' AND (NEW.revoked_at, NEW.expires_at, NEW.scopes, NEW.secret_hash, NEW.prefix)
                IS NOT DISTINCT FROM (OLD.revoked_at, OLD.expires_at, OLD.scopes, OLD.secret_hash, OLD.prefix) THEN
            RETURN NULL; -- last use only
        END IF;
        PERFORM pg_notify('console_api_keys', OLD.prefix);
    ELSIF TG_TABLE_NAME = 'api_key_projects' THEN
        PERFORM pg_notify('console_api_keys', COALESCE(
            (SELECT prefix FROM api_keys WHERE id = COALESCE(NEW.api_key_id, OLD.api_key_id)), '*'));
    ELSIF NEW.deleted_at IS DISTINCT FROM OLD.deleted_at OR NEW.app_id IS DISTINCT FROM OLD.app_id THEN
        PERFORM pg_notify('console_api_keys', '*'); -- projects: a key's AppIDs are those of its live projects
    END IF;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER api_keys_notify AFTER UPDATE OR DELETE ON api_keys
    FOR EACH ROW EXECUTE FUNCTION api_keys_notify();
CREATE TRIGGER api_key_projects_notify AFTER INSERT OR UPDATE OR DELETE ON api_key_projects
    FOR EACH ROW EXECUTE FUNCTION api_keys_notify();
CREATE TRIGGER projects_api_keys_notify AFTER UPDATE ON projects
    FOR EACH ROW EXECUTE FUNCTION api_keys_notify();

-- +goose Down
DROP TRIGGER projects_api_keys_notify ON projects;
DROP TRIGGER api_key_projects_notify ON api_key_projects;
DROP TRIGGER api_keys_notify ON api_keys;
DROP FUNCTION api_keys_notify();
