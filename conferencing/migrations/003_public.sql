-- The public stream of a meeting (council sessions): its own unguessable id, for the page
-- /pubblico/{stream_id} where citizens watch without signing in. It is not the meeting's public id,
-- which lets people join: the public link must never reveal it. Created on first use.
CREATE TABLE conf_public_streams (
	meeting_id INTEGER PRIMARY KEY REFERENCES conf_meetings(id) ON DELETE CASCADE,
	stream_id  TEXT NOT NULL UNIQUE,
	created_at INTEGER NOT NULL                  -- Unix seconds (UTC)
);
