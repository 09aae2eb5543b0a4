-- VPN: policy settings, devices (peers), groups with their destinations, one-time links and the
-- connection log. Times are Unix seconds (UTC); 0 means "not set". No client private key is ever
-- stored: only public keys, and pre-shared keys sealed with keys/vpn-psk.key.

-- The policies an admin changes in the web pages (the network itself is in rocca.toml). One row.
CREATE TABLE vpn_settings (
	id            INTEGER PRIMARY KEY CHECK (id = 1),
	preset        TEXT NOT NULL DEFAULT 'lan' CHECK (preset IN ('lan', 'all', 'custom')),
	custom_ranges TEXT NOT NULL DEFAULT '',   -- space separated IPv4 networks, preset 'custom'
	search_domain TEXT NOT NULL DEFAULT '',
	self_service  INTEGER NOT NULL DEFAULT 1,  -- employees may create their own devices
	max_devices   INTEGER NOT NULL DEFAULT 3,  -- live devices per employee (self-service)
	use_psk       INTEGER NOT NULL DEFAULT 1,  -- new devices get a pre-shared key
	link_hours    INTEGER NOT NULL DEFAULT 72, -- lifetime of one-time links
	default_days  INTEGER NOT NULL DEFAULT 0,  -- lifetime of new self-service devices; 0 = none
	log_days      INTEGER NOT NULL DEFAULT 90, -- retention of the connection log (GDPR)
	updated_at    INTEGER NOT NULL DEFAULT 0
);
INSERT INTO vpn_settings (id) VALUES (1);

-- A device. While ended_at = 0 it is live (unless expires_at has passed and the expiry has not been
-- processed yet); its key, address and name are unique among live devices. Revoking or expiring it
-- sets ended_at and releases the address, which is held back for a while before reuse.
CREATE TABLE vpn_peers (
	id             INTEGER PRIMARY KEY,
	owner_id       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	name           TEXT NOT NULL,
	public_key     TEXT NOT NULL,
	address        TEXT NOT NULL,
	psk            TEXT NOT NULL DEFAULT '',   -- sealed pre-shared key; '' = none
	own_key        INTEGER NOT NULL DEFAULT 0, -- the owner supplied the public key
	imported       INTEGER NOT NULL DEFAULT 0, -- adopted from a wg-quick file
	created_at     INTEGER NOT NULL,
	expires_at     INTEGER NOT NULL DEFAULT 0,
	ended_at       INTEGER NOT NULL DEFAULT 0,
	end_reason     TEXT NOT NULL DEFAULT '' CHECK (end_reason IN ('', 'revoked', 'expired')),
	last_handshake INTEGER NOT NULL DEFAULT 0,
	rx_bytes       INTEGER NOT NULL DEFAULT 0,
	tx_bytes       INTEGER NOT NULL DEFAULT 0,
	endpoint       TEXT NOT NULL DEFAULT '',
	connected      INTEGER NOT NULL DEFAULT 0  -- online as last written to the connection log
);
CREATE UNIQUE INDEX vpn_peers_live_key ON vpn_peers(public_key) WHERE ended_at = 0;
CREATE UNIQUE INDEX vpn_peers_live_address ON vpn_peers(address) WHERE ended_at = 0;
CREATE UNIQUE INDEX vpn_peers_live_name ON vpn_peers(owner_id, name COLLATE NOCASE) WHERE ended_at = 0;
CREATE INDEX vpn_peers_owner ON vpn_peers(owner_id);
CREATE INDEX vpn_peers_ended ON vpn_peers(ended_at);
CREATE INDEX vpn_peers_expires ON vpn_peers(expires_at) WHERE ended_at = 0 AND expires_at > 0;

-- Groups of users and what their devices may reach. Users in no group reach the configured LAN.
CREATE TABLE vpn_groups (
	id         INTEGER PRIMARY KEY,
	name       TEXT NOT NULL UNIQUE COLLATE NOCASE,
	created_at INTEGER NOT NULL
);

CREATE TABLE vpn_group_destinations (
	id       INTEGER PRIMARY KEY,
	group_id INTEGER NOT NULL REFERENCES vpn_groups(id) ON DELETE CASCADE,
	prefix   TEXT NOT NULL,                -- IPv4 network, e.g. 192.168.1.10/32
	proto    TEXT NOT NULL DEFAULT '' CHECK (proto IN ('', 'tcp', 'udp')),
	port     INTEGER NOT NULL DEFAULT 0 CHECK (port BETWEEN 0 AND 65535),
	note     TEXT NOT NULL DEFAULT '',
	UNIQUE (group_id, prefix, proto, port)
);

CREATE TABLE vpn_group_members (
	group_id INTEGER NOT NULL REFERENCES vpn_groups(id) ON DELETE CASCADE,
	user_id  INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	PRIMARY KEY (group_id, user_id)
);
CREATE INDEX vpn_group_members_user ON vpn_group_members(user_id);

-- One-time links that deliver a fresh configuration of a device. Only the SHA-256 of the token is
-- stored; the link works once (used_at is set by a conditional UPDATE), until expires_at.
CREATE TABLE vpn_links (
	id         INTEGER PRIMARY KEY,
	hash       TEXT NOT NULL UNIQUE,
	peer_id    INTEGER NOT NULL REFERENCES vpn_peers(id) ON DELETE CASCADE,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	used_at    INTEGER
);
CREATE INDEX vpn_links_peer ON vpn_links(peer_id);

-- Connect and disconnect events seen on the interface, kept for settings.log_days.
CREATE TABLE vpn_connections (
	id       INTEGER PRIMARY KEY,
	peer_id  INTEGER NOT NULL REFERENCES vpn_peers(id) ON DELETE CASCADE,
	at       INTEGER NOT NULL,
	event    TEXT NOT NULL CHECK (event IN ('connect', 'disconnect')),
	endpoint TEXT NOT NULL DEFAULT ''
);
CREATE INDEX vpn_connections_at ON vpn_connections(at);
CREATE INDEX vpn_connections_peer ON vpn_connections(peer_id, at);
