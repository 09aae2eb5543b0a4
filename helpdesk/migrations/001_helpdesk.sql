-- The helpdesk. Times are Unix seconds (UTC).

-- A ticket; its id is the number people see, as "[#id]" in mail subjects.
CREATE TABLE helpdesk_tickets (
	id                INTEGER PRIMARY KEY,
	subject           TEXT    NOT NULL,
	requester_id      INTEGER REFERENCES users(id) ON DELETE SET NULL,
	requester_email   TEXT    NOT NULL,              -- where replies go; the From of the first mail
	requester_name    TEXT    NOT NULL DEFAULT '',
	external          INTEGER NOT NULL DEFAULT 0,    -- the requester is neither a user nor in an allowed domain
	status            TEXT    NOT NULL DEFAULT 'new'
	                  CHECK (status IN ('new', 'open', 'waiting', 'resolved', 'closed')),
	priority          TEXT    NOT NULL DEFAULT 'normal'
	                  CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
	category          TEXT    NOT NULL DEFAULT '',
	assignee_id       INTEGER REFERENCES users(id) ON DELETE SET NULL,
	source            TEXT    NOT NULL CHECK (source IN ('mail', 'web')),
	linked_id         INTEGER REFERENCES helpdesk_tickets(id) ON DELETE SET NULL, -- the closed ticket this one follows
	created_at        INTEGER NOT NULL,
	updated_at        INTEGER NOT NULL,
	due_at            INTEGER NOT NULL,              -- created_at + the SLA of the priority
	first_response_at INTEGER,
	resolved_at       INTEGER,
	closed_at         INTEGER
);
CREATE INDEX helpdesk_tickets_status ON helpdesk_tickets (status, updated_at);
CREATE INDEX helpdesk_tickets_assignee ON helpdesk_tickets (assignee_id, status);
CREATE INDEX helpdesk_tickets_requester ON helpdesk_tickets (requester_id);
CREATE INDEX helpdesk_tickets_requester_email ON helpdesk_tickets (requester_email COLLATE NOCASE);

-- Every mail handed over by the mailbox, once: dedupe_key is the Message-ID of the mail as
-- delivered (of the envelope, for PEC), or a hash when it has none. raw is the evidence.
CREATE TABLE helpdesk_mails (
	id            INTEGER PRIMARY KEY,
	dedupe_key    TEXT    NOT NULL UNIQUE,
	received_at   INTEGER NOT NULL,
	mailbox       TEXT    NOT NULL DEFAULT '',
	uid_validity  INTEGER NOT NULL DEFAULT 0,
	uid           INTEGER NOT NULL DEFAULT 0,
	from_addr     TEXT    NOT NULL DEFAULT '',
	subject       TEXT    NOT NULL DEFAULT '',
	size          INTEGER NOT NULL,
	raw           BLOB,                               -- NULL once purged or discarded
	raw_truncated INTEGER NOT NULL DEFAULT 0,         -- only the header was kept (too large)
	outcome       TEXT    NOT NULL
	              CHECK (outcome IN ('ticket', 'reply', 'ignored', 'duplicate', 'quarantine', 'held', 'released', 'discarded')),
	reason        TEXT    NOT NULL DEFAULT '',        -- catalog key (quarantine) or automatic-mail reason
	reason_args   TEXT    NOT NULL DEFAULT '[]',      -- JSON array for the catalog key
	detail        TEXT    NOT NULL DEFAULT '',        -- English error text, for admins
	ticket_id     INTEGER REFERENCES helpdesk_tickets(id) ON DELETE SET NULL,
	pec_kind      TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX helpdesk_mails_outcome ON helpdesk_mails (outcome, received_at);
CREATE INDEX helpdesk_mails_ticket ON helpdesk_mails (ticket_id);

-- The messages of a ticket: mail in (or the web form), replies out, internal notes.
CREATE TABLE helpdesk_messages (
	id          INTEGER PRIMARY KEY,
	ticket_id   INTEGER NOT NULL REFERENCES helpdesk_tickets(id) ON DELETE CASCADE,
	kind        TEXT    NOT NULL CHECK (kind IN ('inbound', 'reply', 'note')),
	message_id  TEXT UNIQUE,                          -- RFC 5322 Message-ID (ours for replies); NULL for notes and web messages
	in_reply_to TEXT    NOT NULL DEFAULT '',
	refs        TEXT    NOT NULL DEFAULT '',          -- References, space-separated, oldest first
	author_id   INTEGER REFERENCES users(id) ON DELETE SET NULL,
	from_email  TEXT    NOT NULL DEFAULT '',
	from_name   TEXT    NOT NULL DEFAULT '',
	body_text   TEXT    NOT NULL DEFAULT '',          -- what is new (quoted history stripped)
	full_text   TEXT    NOT NULL DEFAULT '',          -- the whole text, quotes included
	body_html   TEXT    NOT NULL DEFAULT '',          -- sanitised by mailin; remote images blocked
	warnings    TEXT    NOT NULL DEFAULT '[]',        -- JSON array of catalog keys
	mail_id     INTEGER REFERENCES helpdesk_mails(id) ON DELETE SET NULL,
	pec         INTEGER NOT NULL DEFAULT 0,           -- arrived in a PEC envelope
	pec_sender  TEXT    NOT NULL DEFAULT '',
	created_at  INTEGER NOT NULL
);
CREATE INDEX helpdesk_messages_ticket ON helpdesk_messages (ticket_id, id);

-- Attachments; the bytes are the file <data_dir>/helpdesk/attachments/<sha256[:2]>/<sha256>.
CREATE TABLE helpdesk_attachments (
	id           INTEGER PRIMARY KEY,
	message_id   INTEGER NOT NULL REFERENCES helpdesk_messages(id) ON DELETE CASCADE,
	filename     TEXT    NOT NULL,
	content_type TEXT    NOT NULL,
	content_id   TEXT    NOT NULL DEFAULT '',
	inline       INTEGER NOT NULL DEFAULT 0,
	size         INTEGER NOT NULL,
	sha256       TEXT    NOT NULL DEFAULT '',         -- '' when dropped (over the size limit)
	dropped      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX helpdesk_attachments_message ON helpdesk_attachments (message_id);
CREATE INDEX helpdesk_attachments_sha256 ON helpdesk_attachments (sha256);

-- Every mail we sent about a ticket (replies, acknowledgements, notifications): its Message-ID
-- threads the answers, and the acknowledgement limit counts these rows.
CREATE TABLE helpdesk_sent (
	message_id TEXT    PRIMARY KEY,
	ticket_id  INTEGER NOT NULL REFERENCES helpdesk_tickets(id) ON DELETE CASCADE,
	kind       TEXT    NOT NULL CHECK (kind IN ('reply', 'ack', 'notify')),
	recipient  TEXT    NOT NULL COLLATE NOCASE,
	outbox_id  INTEGER NOT NULL DEFAULT 0,
	created_at INTEGER NOT NULL
);
CREATE INDEX helpdesk_sent_recipient ON helpdesk_sent (recipient, kind, created_at);
CREATE INDEX helpdesk_sent_ticket ON helpdesk_sent (ticket_id);

-- How far each mailbox folder is stored: committed together with each mail.
CREATE TABLE helpdesk_mailboxes (
	mailbox      TEXT    PRIMARY KEY,
	uid_validity INTEGER NOT NULL,
	last_uid     INTEGER NOT NULL,
	updated_at   INTEGER NOT NULL
);

-- What happened to each mail handed over, duplicates included; kept Config.LogRetention.
CREATE TABLE helpdesk_ingest_log (
	id           INTEGER PRIMARY KEY,
	at           INTEGER NOT NULL,
	mailbox      TEXT    NOT NULL DEFAULT '',
	uid_validity INTEGER NOT NULL DEFAULT 0,
	uid          INTEGER NOT NULL DEFAULT 0,
	message_id   TEXT    NOT NULL DEFAULT '',
	from_addr    TEXT    NOT NULL DEFAULT '',
	outcome      TEXT    NOT NULL,
	reason       TEXT    NOT NULL DEFAULT '',
	ticket_id    INTEGER
);
CREATE INDEX helpdesk_ingest_log_at ON helpdesk_ingest_log (at);

-- Full-text search over subjects and message texts; rowid = helpdesk_messages.id. Accents are
-- ignored ("perche" finds "perché").
CREATE VIRTUAL TABLE helpdesk_fts USING fts5(
	subject, body,
	content = '', contentless_delete = 1,
	tokenize = 'unicode61 remove_diacritics 2'
);
