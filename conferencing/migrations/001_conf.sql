-- Meetings, their hosts and invitees, and the participants of each meeting.
-- Times are Unix seconds (UTC). Only package conferencing writes these tables.

CREATE TABLE conf_meetings (
	id           INTEGER PRIMARY KEY,
	public_id    TEXT NOT NULL UNIQUE,             -- unguessable id in the join link
	title        TEXT NOT NULL,
	starts_at    INTEGER NOT NULL,
	duration_min INTEGER NOT NULL DEFAULT 60,
	passcode     TEXT NOT NULL DEFAULT '',         -- asked of guests; shown to hosts and in invitations
	locked       INTEGER NOT NULL DEFAULT 0,       -- no new participants
	council      INTEGER NOT NULL DEFAULT 0,       -- a council session (roll call, votes: see issue 5)
	created_by   INTEGER REFERENCES users(id) ON DELETE SET NULL,
	created_at   INTEGER NOT NULL,
	ended_at     INTEGER NOT NULL DEFAULT 0        -- 0 = not ended
);
CREATE INDEX conf_meetings_starts ON conf_meetings(starts_at);

-- Users who host a meeting: they skip the lobby and hold the moderator controls.
CREATE TABLE conf_hosts (
	meeting_id INTEGER NOT NULL REFERENCES conf_meetings(id) ON DELETE CASCADE,
	user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	PRIMARY KEY (meeting_id, user_id)
);

CREATE TABLE conf_invitees (
	id         INTEGER PRIMARY KEY,
	meeting_id INTEGER NOT NULL REFERENCES conf_meetings(id) ON DELETE CASCADE,
	email      TEXT NOT NULL COLLATE NOCASE,
	name       TEXT NOT NULL DEFAULT '',
	user_id    INTEGER REFERENCES users(id) ON DELETE SET NULL, -- when the address belongs to a user
	outbox_id  INTEGER NOT NULL DEFAULT 0,                      -- the invitation in mail_outbox, 0 = not sent
	UNIQUE (meeting_id, email)
);

-- A participant is one person's place in one meeting: a signed-in user keeps the same row across
-- reloads; each guest join makes a new one. state: lobby (waiting), admitted, denied, removed.
CREATE TABLE conf_participants (
	id          INTEGER PRIMARY KEY,
	public_id   TEXT NOT NULL UNIQUE,              -- the id clients see and the SFU uses
	meeting_id  INTEGER NOT NULL REFERENCES conf_meetings(id) ON DELETE CASCADE,
	user_id     INTEGER REFERENCES users(id) ON DELETE SET NULL,
	name        TEXT NOT NULL,
	role        TEXT NOT NULL CHECK (role IN ('host', 'cohost', 'member', 'guest', 'chair', 'secretary', 'public')),
	state       TEXT NOT NULL CHECK (state IN ('lobby', 'admitted', 'denied', 'removed')),
	created_at  INTEGER NOT NULL,
	updated_at  INTEGER NOT NULL
);
CREATE INDEX conf_participants_meeting ON conf_participants(meeting_id);
CREATE INDEX conf_participants_user ON conf_participants(meeting_id, user_id);
