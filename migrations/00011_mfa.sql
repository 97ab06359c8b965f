-- +goose Up

-- Second factors for local accounts (TOTP, passkeys, recovery codes), the
-- state of a sign-in that still awaits its second factor, step-up, and what
-- "My account" shows of each session.

ALTER TABLE operators
    -- The first admin's generated one-time password: changed at first sign-in.
    ADD COLUMN must_change_password boolean NOT NULL DEFAULT false,
    -- The person's WebAuthn user handle: random, never their name or id.
    ADD COLUMN webauthn_user_id     bytea UNIQUE CHECK (octet_length(webauthn_user_id) = 32),
    -- A passkey alone (with its PIN or biometric) is a sign-in method too.
    DROP CONSTRAINT operators_last_login_method_check,
    ADD CONSTRAINT operators_last_login_method_check CHECK (last_login_method IN ('password', 'oidc', 'passkey'));

ALTER TABLE web_sessions
    -- 'second_factor': the password was right, the second factor is awaited;
    -- such a session reaches nothing but the second-factor page.
    ADD COLUMN stage       text CHECK (stage IN ('second_factor')),
    -- How the session was signed in to.
    ADD COLUMN method      text NOT NULL DEFAULT 'password' CHECK (method IN ('password', 'oidc', 'passkey')),
    -- When the person last proved who they are (sign-in, second factor,
    -- step-up): dangerous actions want this to be recent.
    ADD COLUMN verified_at timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN client_ip   text NOT NULL DEFAULT '' CHECK (length(client_ip) <= 64),
    ADD COLUMN user_agent  text NOT NULL DEFAULT '' CHECK (length(user_agent) <= 300);
CREATE INDEX web_sessions_operator ON web_sessions (operator_id);

-- A person's TOTP secret, sealed under the master key (key_id names it) with
-- "totp:<operator_id>" as additional data. confirmed_at is null while the
-- enrolment awaits its first valid code. last_step is the time step of the
-- last code accepted: a code is good once.
CREATE TABLE operator_totp (
    operator_id  bigint      PRIMARY KEY REFERENCES operators (id) ON DELETE CASCADE,
    key_id       text        NOT NULL CHECK (length(key_id) BETWEEN 1 AND 64),
    ciphertext   bytea       NOT NULL CHECK (octet_length(ciphertext) BETWEEN 29 AND 128),
    last_step    bigint      NOT NULL DEFAULT 0,
    confirmed_at timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now()
);

-- Recovery codes: only their SHA-256 (each code holds 80 random bits), each
-- good once.
CREATE TABLE operator_recovery_codes (
    operator_id bigint      NOT NULL REFERENCES operators (id) ON DELETE CASCADE,
    code_hash   bytea       NOT NULL CHECK (octet_length(code_hash) = 32),
    used_at     timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (operator_id, code_hash)
);

-- Passkeys and security keys (WebAuthn credentials): the credential record
-- as go-webauthn keeps it (public key, attestation, transports), its flags
-- and signature counter, never anything secret.
CREATE TABLE operator_passkeys (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    operator_id     bigint      NOT NULL REFERENCES operators (id) ON DELETE CASCADE,
    name            text        NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
    credential_id   bytea       NOT NULL UNIQUE CHECK (octet_length(credential_id) BETWEEN 1 AND 1023),
    record          jsonb       NOT NULL CHECK (jsonb_typeof(record) = 'object'),
    aaguid          bytea       NOT NULL DEFAULT '' CHECK (octet_length(aaguid) IN (0, 16)),
    sign_count      bigint      NOT NULL DEFAULT 0 CHECK (sign_count >= 0),
    user_present    boolean     NOT NULL,
    user_verified   boolean     NOT NULL,
    backup_eligible boolean     NOT NULL,
    backup_state    boolean     NOT NULL,
    clone_warning   boolean     NOT NULL DEFAULT false,
    created_at      timestamptz NOT NULL DEFAULT now(),
    last_used_at    timestamptz
);
CREATE INDEX operator_passkeys_operator ON operator_passkeys (operator_id);

-- WebAuthn ceremonies in progress, by the SHA-256 of their challenge: each is
-- finished at most once, on any instance, within its time.
CREATE TABLE webauthn_ceremonies (
    challenge_hash bytea       PRIMARY KEY CHECK (octet_length(challenge_hash) = 32),
    purpose        text        NOT NULL CHECK (purpose IN ('register', 'second_factor', 'step_up', 'sign_in')),
    operator_id    bigint      REFERENCES operators (id) ON DELETE CASCADE,
    session_hash   bytea       CHECK (octet_length(session_hash) = 32),
    data           jsonb       NOT NULL,
    expires_at     timestamptz NOT NULL
);
CREATE INDEX webauthn_ceremonies_expires ON webauthn_ceremonies (expires_at);

INSERT INTO runtime_privileges (kind, object, privileges, reason) VALUES
    ('table', 'operator_totp', 'SELECT, INSERT, UPDATE, DELETE',
        'enrol, check (the last step used), remove and re-encrypt TOTP secrets'),
    ('table', 'operator_recovery_codes', 'SELECT, INSERT, UPDATE, DELETE', 'make, use once and replace recovery codes'),
    ('table', 'operator_passkeys', 'SELECT, INSERT, UPDATE, DELETE',
        'register, name, use (signature counter) and remove passkeys'),
    ('table', 'webauthn_ceremonies', 'SELECT, INSERT, DELETE', 'finish each passkey ceremony once; purge expired ones');
SELECT regrant_runtime_roles();

-- +goose Down
DELETE FROM runtime_privileges WHERE object IN ('operator_totp', 'operator_recovery_codes', 'operator_passkeys', 'webauthn_ceremonies');
DROP TABLE webauthn_ceremonies;
DROP TABLE operator_passkeys;
DROP TABLE operator_recovery_codes;
DROP TABLE operator_totp;
DROP INDEX web_sessions_operator;
ALTER TABLE web_sessions
    DROP COLUMN user_agent,
    DROP COLUMN client_ip,
    DROP COLUMN verified_at,
    DROP COLUMN method,
    DROP COLUMN stage;
UPDATE operators SET last_login_method = 'password' WHERE last_login_method = 'passkey';
ALTER TABLE operators
    DROP CONSTRAINT operators_last_login_method_check,
    ADD CONSTRAINT operators_last_login_method_check CHECK (last_login_method IN ('password', 'oidc')),
    DROP COLUMN webauthn_user_id,
    DROP COLUMN must_change_password;
SELECT regrant_runtime_roles();
