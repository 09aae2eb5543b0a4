// Package installer owns the install plan of `rocca install`: the preflight checks (each a small
// function over a System, with a result OK, AVVISO or BLOCCO, an explanation and a copy-paste fix),
// the answers (a config.Config plus the first administrator), and the steps that bring a machine to
// the desired state — the config file, the data directory and the service user, the database and the
// admin, the server keys, TLS, the hardened systemd unit, starting the service and waiting until it
// is healthy. Every step compares the desired state with what is on disk first, so a second run with
// the same answers changes nothing and says so, and `--dry-run` lists what would change.
//
// It has no user interface: cmd/rocca drives it directly for `rocca install --answers FILE` and
// `rocca doctor`, and package tui builds the terminal wizard on top of it. Only cmd/rocca and tui
// import it. It imports internal/auth (to create the first administrator), internal/mail (for its
// migrations, and for the mail accounts: the OAuth2 sign-in after the install and the live IMAP
// and SMTP logins of the mail checks) and internal/web (which owns the self-signed certificate the
// TLS step prepares), like cmd/rocca, and never the parts.
package installer
