// Package vpn owns Rocca's WireGuard remote access: the network settings and their policies, the
// devices (peers) of each employee with their addresses from the pool, groups of users and the
// destinations they may reach, the server key and the pre-shared keys (encrypted at rest), client
// configurations in wg-quick format with QR codes and one-time links, the import of an existing
// wg0.conf, the loop that keeps the WireGuard interface equal to the database (incremental peer
// changes, never a recreated interface), expiry at the exact time, the connection log, metrics, the
// admin and "I miei dispositivi" pages and the /api/vpn JSON endpoints. Its tables are prefixed vpn_.
//
// A client's private key exists only in memory while one delivery (download, QR code, one-time link)
// is composed: it is never written to the database, the logs or a backup.
//
// The interface itself is reached through the Device, OpenDevice and Firewall seams declared here;
// SystemDevice backs them with package vpn/device. Users, the audit log and the outbox arrive through
// the small interfaces Users, Auditor and Mailer. Only cmd/rocca imports this package; it never imports
// internal/auth or another part.
package vpn
