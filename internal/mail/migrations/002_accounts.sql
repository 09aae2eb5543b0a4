-- The state of each mail login (the helpdesk mailbox, the outgoing relay): how it signs in, when it
-- last succeeded, and for OAuth2 accounts the refresh token, encrypted with AES-GCM under the key in
-- <data_dir>/oauth.key (never in this database, never in a backup). Access tokens are never stored.
-- Times are UTC text, 'YYYY-MM-DDTHH:MM:SS.sssZ'.
CREATE TABLE mail_accounts (
	name            TEXT    PRIMARY KEY,           -- "helpdesk", "smtp"
	method          TEXT    NOT NULL DEFAULT 'password' CHECK (method IN ('password', 'oauth2')),
	provider        TEXT    NOT NULL DEFAULT '',   -- microsoft | google | generic
	client_id       TEXT    NOT NULL DEFAULT '',   -- the sign-in belongs to this application
	state           TEXT    NOT NULL DEFAULT 'none'
	                CHECK (state IN ('none', 'connected', 'revoked')),
	identity        TEXT    NOT NULL DEFAULT '',   -- the mailbox that signed in, from the ID token
	scopes          TEXT    NOT NULL DEFAULT '',   -- granted scopes, space separated
	refresh_sealed  BLOB,                          -- nonce || AES-GCM(refresh token)
	connected_at    TEXT,
	token_expires_at TEXT,                         -- of the last access token, for display
	last_refresh_at TEXT,
	last_login_at   TEXT,                          -- last successful IMAP/SMTP login
	last_error      TEXT    NOT NULL DEFAULT '',
	last_error_at   TEXT,
	updated_at      TEXT    NOT NULL
);
