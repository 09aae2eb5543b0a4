// Package rocca is the shared vocabulary of Rocca: the error type and its codes, users and roles, and
// the helpers that carry the signed-in user through a request context.
//
// Every package may import it; it imports only the standard library. The parts (vpn, conferencing,
// helpdesk) see users only through this package, never through internal/auth.
package rocca

// Version is the release of this build; cmd/rocca overrides it with -ldflags at build time.
const Version = "0.1.0-dev"
