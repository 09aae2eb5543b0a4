package mailin

import "context"

// Ref names one message in the mailbox it was fetched from. UIDs are only meaningful together with
// the mailbox's UIDVALIDITY: when that changes, every UID may name a different message.
type Ref struct {
	Mailbox     string `json:"mailbox"`
	UIDValidity uint32 `json:"uid_validity"`
	UID         uint32 `json:"uid"`
}

// Position is how far the sink has stored a mailbox: every message with a UID up to LastUID, under
// UIDValidity, is committed. The zero Position means nothing is stored yet.
type Position struct {
	UIDValidity uint32
	LastUID     uint32
}

// Sink stores fetched messages. The helpdesk implements it; the IMAP client (Syncer) depends only
// on this interface.
//
// Deliver must store raw and advance the mailbox position to ref in ONE transaction, and return
// only after it has committed: the Syncer moves (or flags) the message on the server after Deliver
// returns nil, so a crash between the two leaves a stored message still in the folder, which the
// next sync recognises from Position and only moves. Deliver must be idempotent: the same ref
// again, or the same message under another ref (after a UIDVALIDITY change, or a copy delivered
// twice), must store nothing new and return nil. A message the sink cannot understand is still
// stored (quarantined) and returns nil; an error means the sink could not store anything (the
// database is unavailable), and the Syncer stops this round and tries again later without moving
// the message.
type Sink interface {
	Position(ctx context.Context, mailbox string) (Position, error)
	Deliver(ctx context.Context, raw []byte, ref Ref) error
}
