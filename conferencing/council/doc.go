// Package council owns the domain of a council session (seduta del consiglio): the assembly and
// its seats, presence and roll call, the quorum (numero legale), the floor queue, open and secret
// votes, suspension, and the sealed record — an append-only, hash-chained log of every event,
// signed with the server's Ed25519 key when the session closes, and its offline verifier — and the minutes draft (verbale, ODT and HTML) made from a record
// alone.
//
// It knows no HTTP, no SQL, no WebRTC and no users: callers tell a Session what happened
// (connections, media received, confirmations, the President's and the Secretary's actions) and
// it decides presence, quorum and votes and writes the record. Only conferencing (which drives a
// Session from a live room) and cmd/rocca (`rocca council verify`, the signing key) import it.
package council
