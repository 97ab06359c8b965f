-- +goose Up

-- People sign in with the company's identity provider (OIDC) as well as with
-- a password, and each person reaches only the projects of their grant.

-- A person who signs in only through the identity provider has no password.
ALTER TABLE operators ALTER COLUMN password_hash DROP NOT NULL;
ALTER TABLE operators
    -- The grant: every project, or only those in operator_projects.
    ADD COLUMN all_projects      boolean NOT NULL DEFAULT true,
    ADD COLUMN last_login_at     timestamptz,
    ADD COLUMN last_login_method text CHECK (last_login_method IN ('password', 'oidc')),
    -- An admin lets this local account be taken over, once, by the
    -- identity-provider person with this verified e-mail address.
    ADD COLUMN sso_link_email    text CHECK (length(sso_link_email) BETWEEN 3 AND 254),
    -- Admins always reach every project: they grant the projects.
    ADD CONSTRAINT operators_admin_all_projects CHECK (role <> 'admin' OR all_projects);
CREATE UNIQUE INDEX operators_sso_link_email ON operators (lower(sso_link_email)) WHERE sso_link_email IS NOT NULL;

-- The projects of a person whose grant is not all projects. A deleted
-- project stays here but is no longer reached (its AppID may later name
-- another project).
CREATE TABLE operator_projects (
    operator_id bigint NOT NULL REFERENCES operators (id) ON DELETE CASCADE,
    project_id  bigint NOT NULL REFERENCES projects (id),
    PRIMARY KEY (operator_id, project_id)
);

-- A person of the identity provider, named by (issuer, subject): never by
-- e-mail, which a provider may let people change.
CREATE TABLE operator_identities (
    issuer      text        NOT NULL CHECK (length(issuer) BETWEEN 1 AND 500),
    subject     text        NOT NULL CHECK (length(subject) BETWEEN 1 AND 255),
    operator_id bigint      NOT NULL UNIQUE REFERENCES operators (id) ON DELETE CASCADE,
    email       text        NOT NULL DEFAULT '' CHECK (length(email) <= 254),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (issuer, subject)
);

-- The ordered mapping rules from ID token claims to a role and projects: one
-- document, edited by admins (audited) or seeded from CONSOLE_OIDC_RULES_FILE
-- when it does not exist yet.
CREATE TABLE oidc_mapping (
    singleton  boolean     PRIMARY KEY DEFAULT true CHECK (singleton),
    rules      jsonb       NOT NULL CHECK (jsonb_typeof(rules) = 'array'),
    updated_at timestamptz NOT NULL DEFAULT now(),
    updated_by text        NOT NULL
);

-- Sign-ins in progress: the hash of each state, so that a state is used once
-- across every instance (the rest of the flow lives in a signed cookie).
CREATE TABLE oidc_states (
    state_hash bytea       PRIMARY KEY CHECK (octet_length(state_hash) = 32),
    expires_at timestamptz NOT NULL
);
CREATE INDEX oidc_states_expires ON oidc_states (expires_at);

INSERT INTO runtime_privileges (kind, object, privileges, reason) VALUES
    ('table', 'operator_projects', 'SELECT, INSERT, DELETE', 'the projects of a person''s grant, set by admins and at each SSO sign-in'),
    ('table', 'operator_identities', 'SELECT, INSERT, UPDATE', 'find, create or link the person of an SSO sign-in; keep their e-mail current'),
    ('table', 'oidc_mapping', 'SELECT, INSERT, UPDATE', 'read the SSO mapping rules at sign-in; admins edit them; seeded at start'),
    ('table', 'oidc_states', 'SELECT, INSERT, DELETE', 'use each SSO sign-in state once; purge expired ones');
SELECT regrant_runtime_roles();

-- +goose Down
DELETE FROM runtime_privileges WHERE object IN ('operator_projects', 'operator_identities', 'oidc_mapping', 'oidc_states');
DROP TABLE oidc_states;
DROP TABLE oidc_mapping;
DROP TABLE operator_identities;
DROP TABLE operator_projects;
DROP INDEX operators_sso_link_email;
ALTER TABLE operators
    DROP CONSTRAINT operators_admin_all_projects,
    DROP COLUMN sso_link_email,
    DROP COLUMN last_login_method,
    DROP COLUMN last_login_at,
    DROP COLUMN all_projects;
-- People without a password cannot stay: they could no longer sign in.
DELETE FROM operators WHERE password_hash IS NULL;
ALTER TABLE operators ALTER COLUMN password_hash SET NOT NULL;
SELECT regrant_runtime_roles();
