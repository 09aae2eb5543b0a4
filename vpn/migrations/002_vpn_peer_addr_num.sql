-- The device's IPv4 address as a number, indexed, so that finding the lowest free address counts
-- index ranges instead of reading every device's address into the program.
ALTER TABLE vpn_peers ADD COLUMN addr_num INTEGER NOT NULL DEFAULT 0;
UPDATE vpn_peers SET addr_num = (
	SELECT o1 * 16777216 + o2 * 65536
		+ CAST(substr(r2, 1, instr(r2, '.') - 1) AS INTEGER) * 256
		+ CAST(substr(r2, instr(r2, '.') + 1) AS INTEGER)
	FROM (SELECT o1, CAST(substr(r1, 1, instr(r1, '.') - 1) AS INTEGER) AS o2, substr(r1, instr(r1, '.') + 1) AS r2
		FROM (SELECT CAST(substr(vpn_peers.address, 1, instr(vpn_peers.address, '.') - 1) AS INTEGER) AS o1,
			substr(vpn_peers.address, instr(vpn_peers.address, '.') + 1) AS r1)));
CREATE INDEX vpn_peers_addr_num ON vpn_peers(addr_num, ended_at);
