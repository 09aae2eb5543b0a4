-- The outbox: every outbound message is stored here before anything is sent, and stays after it is
-- sent (with its state) so admins can see what went out. Times are UTC text, 'YYYY-MM-DDTHH:MM:SS.sssZ',
-- so they compare as strings.
CREATE TABLE mail_outbox (
	id              INTEGER PRIMARY KEY,
	created_at      TEXT    NOT NULL,
	envelope_from   TEXT    NOT NULL DEFAULT '',   -- '' is the null sender <> (auto-replies, bounces)
	recipients      TEXT    NOT NULL,              -- JSON array of addr-specs (RCPT TO)
	raw             BLOB    NOT NULL,              -- the RFC 5322 message, sent byte for byte
	message_id      TEXT    NOT NULL,              -- without angle brackets; the same on every attempt
	subject         TEXT    NOT NULL DEFAULT '',   -- decoded, for the admin page
	state           TEXT    NOT NULL DEFAULT 'queued'
	                CHECK (state IN ('queued', 'sending', 'sent', 'failed')),
	attempts        INTEGER NOT NULL DEFAULT 0,
	next_attempt_at TEXT    NOT NULL,
	give_up_at      TEXT    NOT NULL,              -- temporary failures after this time make it failed
	last_error      TEXT    NOT NULL DEFAULT '',
	sent_at         TEXT
);

CREATE INDEX mail_outbox_due ON mail_outbox (state, next_attempt_at);
CREATE INDEX mail_outbox_message_id ON mail_outbox (message_id);
