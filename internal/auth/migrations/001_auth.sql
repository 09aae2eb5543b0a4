-- Users, sessions, API tokens, one-time links, login failures and the audit log.
-- Times are Unix seconds (UTC).

CREATE TABLE users (
	id            INTEGER PRIMARY KEY,
	email         TEXT NOT NULL UNIQUE COLLATE NOCASE,
	name          TEXT NOT NULL,
	role          TEXT NOT NULL CHECK (role IN ('admin', 'agent', 'staff', 'councillor')),
	language      TEXT NOT NULL DEFAULT '' CHECK (language IN ('', 'it', 'en')),
	password_hash TEXT NOT NULL DEFAULT '',       -- PHC argon2id string; '' = no password yet
	disabled      INTEGER NOT NULL DEFAULT 0,
	totp_secret   TEXT NOT NULL DEFAULT '',       -- enrolled second factor (encrypted when a key is set)
	totp_pending  TEXT NOT NULL DEFAULT '',       -- secret shown during enrolment, not yet confirmed
	totp_last_step INTEGER NOT NULL DEFAULT 0,    -- last accepted time step: a code works once
	created_at    INTEGER NOT NULL,
	updated_at    INTEGER NOT NULL
);

CREATE TABLE auth_sessions (
	id          INTEGER PRIMARY KEY,
	hash        TEXT NOT NULL UNIQUE,             -- SHA-256 of the cookie value
	user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	created_at  INTEGER NOT NULL,
	last_seen   INTEGER NOT NULL,
	expires_at  INTEGER NOT NULL,
	ip          TEXT NOT NULL DEFAULT '',
	user_agent  TEXT NOT NULL DEFAULT '',
	second_factor INTEGER NOT NULL DEFAULT 0      -- the TOTP step was passed in this session
);
CREATE INDEX auth_sessions_user ON auth_sessions(user_id);
CREATE INDEX auth_sessions_expires ON auth_sessions(expires_at);

CREATE TABLE api_tokens (
	id           INTEGER PRIMARY KEY,
	hash         TEXT NOT NULL UNIQUE,            -- SHA-256 of the token
	user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	name         TEXT NOT NULL,
	scopes       TEXT NOT NULL,                   -- space separated
	created_at   INTEGER NOT NULL,
	expires_at   INTEGER NOT NULL DEFAULT 0,      -- 0 = never
	last_used_at INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX api_tokens_user ON api_tokens(user_id);

-- One-time links: the first-run setup link (user_id NULL) and set-password links.
CREATE TABLE setup_tokens (
	id         INTEGER PRIMARY KEY,
	hash       TEXT NOT NULL UNIQUE,              -- SHA-256 of the token
	purpose    TEXT NOT NULL CHECK (purpose IN ('setup', 'password')),
	user_id    INTEGER REFERENCES users(id) ON DELETE CASCADE,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	used_at    INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE login_failures (
	id    INTEGER PRIMARY KEY,
	at    INTEGER NOT NULL,
	email TEXT NOT NULL COLLATE NOCASE,
	ip    TEXT NOT NULL
);
CREATE INDEX login_failures_email ON login_failures(email, at);
CREATE INDEX login_failures_ip ON login_failures(ip, at);

CREATE TABLE audit_log (
	id       INTEGER PRIMARY KEY,
	at       INTEGER NOT NULL,
	actor    TEXT NOT NULL,                      -- e-mail of the user, or "system", "cli", "anonymous"
	actor_id INTEGER,                            -- users.id when the actor is a user
	action   TEXT NOT NULL,                      -- e.g. "login.success", "user.create"
	detail   TEXT NOT NULL DEFAULT '{}',         -- JSON object, never a secret
	ip       TEXT NOT NULL DEFAULT ''
);

-- The audit log is append-only: nothing may change or remove an entry.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
	SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
	SELECT RAISE(ABORT, 'audit_log is append-only');
END;
