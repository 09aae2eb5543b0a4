package helpdesk

import (
	"context"
	"database/sql"
	"fmt"
	"os"

	"github.com/rocca-pa/rocca"
)

// OpenAttachment returns an attachment and its file. Agents may read any; a requester only those
// of their own tickets, never of internal notes. Others get ENOTFOUND, as if it did not exist.
func (s *Service) OpenAttachment(ctx context.Context, u *rocca.User, id int64) (Attachment, *os.File, error) {
	notFound := rocca.Localized(rocca.ENOTFOUND, "helpdesk.error.no_attachment", fmt.Sprintf("attachment %d not found", id))
	a, ticket, kind, err := attachmentByID(ctx, s.db, id)
	if err == sql.ErrNoRows {
		return a, nil, notFound
	}
	if err != nil {
		return a, nil, fmt.Errorf("attachment %d: %w", id, err)
	}
	if u == nil {
		return a, nil, notFound
	}
	if !isAgent(u) {
		t, err := ticketByNumber(ctx, s.db, ticket)
		if err != nil || kind == KindNote || !ownsTicket(u, t) {
			return a, nil, notFound
		}
	}
	if a.Dropped || a.SHA256 == "" {
		return a, nil, rocca.Localized(rocca.EGONE, "helpdesk.error.attachment_dropped", "the attachment was too large and was not kept")
	}
	f, err := s.files.open(a.SHA256)
	if err != nil {
		return a, nil, fmt.Errorf("open attachment %d: %w", id, err)
	}
	return a, f, nil
}
