-- Council sessions (issue 5): the setup of a council meeting (President, Secretary, seats, agenda,
-- quorum rule, public or closed) and the totals of each vote. Times are Unix seconds (UTC).
--
-- Ballots, and any link between a voter and a choice, are NEVER stored here: open votes by name
-- and every other event live only in the sealed record file (record_file, under the council
-- directory of the data dir).

CREATE TABLE conf_council (
	meeting_id       INTEGER PRIMARY KEY REFERENCES conf_meetings(id) ON DELETE CASCADE,
	quorum_kind      TEXT NOT NULL CHECK (quorum_kind IN ('majority', 'one_third', 'custom')),
	quorum_n         INTEGER NOT NULL DEFAULT 0,       -- custom rule only
	public           INTEGER NOT NULL DEFAULT 1,       -- 0: seduta riservata
	recording_closed INTEGER NOT NULL DEFAULT 0,       -- 1: recording allowed in closed sessions too
	chair_user       INTEGER REFERENCES users(id) ON DELETE SET NULL,
	secretary_user   INTEGER REFERENCES users(id) ON DELETE SET NULL,
	state            TEXT NOT NULL DEFAULT 'scheduled' CHECK (state IN ('scheduled', 'open', 'closed')),
	record_file      TEXT NOT NULL DEFAULT '',         -- name of the record, relative to the council directory
	opened_at        INTEGER NOT NULL DEFAULT 0,
	closed_at        INTEGER NOT NULL DEFAULT 0
);

-- The assembly: one row per seat. name is the member's name as seated (written in the record).
CREATE TABLE conf_council_seats (
	meeting_id        INTEGER NOT NULL REFERENCES conf_council(meeting_id) ON DELETE CASCADE,
	seat              INTEGER NOT NULL CHECK (seat > 0),
	user_id           INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	name              TEXT NOT NULL,
	counts_for_quorum INTEGER NOT NULL DEFAULT 1,
	PRIMARY KEY (meeting_id, seat),
	UNIQUE (meeting_id, user_id)
);

-- The order of the day.
CREATE TABLE conf_council_items (
	meeting_id INTEGER NOT NULL REFERENCES conf_council(meeting_id) ON DELETE CASCADE,
	n          INTEGER NOT NULL CHECK (n > 0),
	title      TEXT NOT NULL,
	PRIMARY KEY (meeting_id, n)
);

-- Totals of each closed vote; n is the vote's number in its record (a session reopened after a
-- server restart starts a new record, and its votes count from 1 again).
CREATE TABLE conf_council_votes (
	id         INTEGER PRIMARY KEY,
	meeting_id INTEGER NOT NULL REFERENCES conf_council(meeting_id) ON DELETE CASCADE,
	n          INTEGER NOT NULL,
	item       TEXT NOT NULL,
	secret     INTEGER NOT NULL,
	eligible   INTEGER NOT NULL,
	favorevole INTEGER NOT NULL,
	contrario  INTEGER NOT NULL,
	astenuto   INTEGER NOT NULL,
	closed_at  INTEGER NOT NULL
);
CREATE INDEX conf_council_votes_meeting ON conf_council_votes(meeting_id);
