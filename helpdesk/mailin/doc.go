// Package mailin owns how Rocca understands the e-mail that reaches the helpdesk mailbox: MIME
// parsing with size, part and depth limits, charsets (ISO-8859-1 and US-ASCII labels read as
// Windows-1252), RFC 2047/2231 names, HTML sanitising with remote images blocked, quoted-history
// stripping, subject prefixes and ticket tags, threading keys, automatic-mail and loop detection, and
// Italian certified mail (PEC) envelopes, receipts and daticert.xml.
//
// Parse is pure: it takes the raw bytes of one message and returns a *Message; it touches neither
// the network nor a database. The IMAP client lives in this package too and hands messages to the
// helpdesk through an interface declared here; the helpdesk keeps the raw bytes (the evidence for
// quarantine and for PEC envelopes) and calls Parse.
//
// testdata/corpus holds realistic messages with their expected routing in expected.json, shared
// with the end-to-end tests that deliver them to Dovecot.
//
// Imported by helpdesk and cmd/rocca only.
package mailin
