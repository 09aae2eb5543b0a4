// Package helpdesk owns the IT helpdesk: tickets, their messages (mail in, replies out, internal
// notes), attachments (files named by SHA-256 under <data_dir>/helpdesk/attachments, metadata in
// SQLite), full-text search (FTS5, accent-insensitive), the quarantine of mail it cannot take, the
// mailbox positions that make mail ingest exactly-once, acknowledgements and notifications sent
// through the outbox, the agent queue and ticket pages, the staff portal "Le mie richieste", the
// admin quarantine page and the operations behind `rocca ticket list|show`. Its tables start with
// helpdesk_.
//
// Mail arrives through Ingest (the mailin.Sink that helpdesk/mailin's Syncer feeds): the raw message,
// what it became and the mailbox position commit in one transaction, and a message already stored
// (same mailbox UID, or same Message-ID) is a no-op.
//
// Imported by cmd/rocca only. It imports helpdesk/mailin, the internal infrastructure packages and
// package rocca; it sees users only through the Users interface and rocca.User in the request
// context, never internal/auth.
package helpdesk
