package helpdesk

import (
	"context"
	"fmt"
	"time"

	"github.com/rocca-pa/rocca"
)

// TicketView is a ticket with its thread.
type TicketView struct {
	Ticket   *Ticket    `json:"ticket"`
	Messages []*Message `json:"messages"`
	// Auto lists the automatic mail about the ticket (bounces, PEC receipts, out-of-office
	// replies): recorded, never added to the thread.
	Auto []MailSummary `json:"automatic_mail,omitempty"`
	// Followups are the tickets opened by answers to this one after it was closed.
	Followups []int64 `json:"followups,omitempty"`
}

// MailSummary describes one stored mail.
type MailSummary struct {
	ID         int64      `json:"id"`
	ReceivedAt time.Time  `json:"received_at"`
	From       string     `json:"from"`
	Subject    string     `json:"subject"`
	Size       int64      `json:"size"`
	Outcome    string     `json:"outcome"`
	Reason     string     `json:"reason,omitempty"` // catalog key or automatic-mail reason
	ReasonArgs []any      `json:"reason_args,omitempty"`
	Detail     string     `json:"detail,omitempty"`
	Ticket     int64      `json:"ticket,omitempty"`
	PECKind    string     `json:"pec_kind,omitempty"`
	Mailbox    MailboxRef `json:"mailbox"`
	HasRaw     bool       `json:"has_raw"`
	Truncated  bool       `json:"truncated,omitempty"`
}

func summaryOf(m *mailRow) MailSummary {
	return MailSummary{
		ID: m.ID, ReceivedAt: m.ReceivedAt, From: m.From, Subject: m.Subject, Size: m.Size,
		Outcome: m.Outcome, Reason: m.Reason, ReasonArgs: m.ReasonArgs, Detail: m.Detail, Ticket: m.Ticket,
		PECKind: m.PECKind, Mailbox: m.Ref, HasRaw: m.HasRaw, Truncated: m.Truncated,
	}
}

// Queue returns the tickets an agent asked for.
func (s *Service) Queue(ctx context.Context, actor *rocca.User, f Filter) ([]*Ticket, error) {
	if err := requireAgent(actor); err != nil {
		return nil, err
	}
	list, err := listTickets(ctx, s.db, f)
	if err != nil {
		return nil, err
	}
	s.fillNames(ctx, list...)
	return list, nil
}

// MyTickets returns the tickets u asked for, by account or by address.
func (s *Service) MyTickets(ctx context.Context, u *rocca.User) ([]*Ticket, error) {
	if u == nil {
		return nil, rocca.Localized(rocca.EUNAUTHORIZED, "helpdesk.error.sign_in", "sign in first")
	}
	list, err := listTickets(ctx, s.db, Filter{RequesterID: u.ID, RequesterEmail: u.Email, Limit: 500})
	if err != nil {
		return nil, err
	}
	s.fillNames(ctx, list...)
	return list, nil
}

// Ticket returns the whole ticket, notes included, for an agent.
func (s *Service) Ticket(ctx context.Context, actor *rocca.User, n int64) (*TicketView, error) {
	if err := requireAgent(actor); err != nil {
		return nil, err
	}
	return s.ticketView(ctx, n, true)
}

// MyTicket returns a ticket of u's without internal notes; ENOTFOUND for anyone else's.
func (s *Service) MyTicket(ctx context.Context, u *rocca.User, n int64) (*TicketView, error) {
	v, err := s.ticketView(ctx, n, false)
	if err != nil {
		return nil, err
	}
	if !ownsTicket(u, v.Ticket) {
		return nil, rocca.Localized(rocca.ENOTFOUND, "helpdesk.error.no_ticket", fmt.Sprintf("ticket %d not found", n), n)
	}
	v.Auto = nil
	return v, nil
}

func (s *Service) ticketView(ctx context.Context, n int64, agent bool) (*TicketView, error) {
	t, err := ticketByNumber(ctx, s.db, n)
	if err != nil {
		return nil, err
	}
	msgs, err := messagesOf(ctx, s.db, n, agent)
	if err != nil {
		return nil, err
	}
	v := &TicketView{Ticket: t, Messages: msgs}
	s.fillNames(ctx, t)
	if !agent {
		return v, nil
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+mailColumns+` FROM helpdesk_mails WHERE ticket_id = ? AND outcome = 'ignored' ORDER BY id`, n)
	if err != nil {
		return nil, fmt.Errorf("automatic mail: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		m, err := scanMail(rows)
		if err != nil {
			return nil, fmt.Errorf("automatic mail: %w", err)
		}
		v.Auto = append(v.Auto, summaryOf(m))
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	frows, err := s.db.QueryContext(ctx, `SELECT id FROM helpdesk_tickets WHERE linked_id = ? ORDER BY id`, n)
	if err != nil {
		return nil, fmt.Errorf("follow-up tickets: %w", err)
	}
	defer frows.Close()
	for frows.Next() {
		var id int64
		if err := frows.Scan(&id); err != nil {
			return nil, err
		}
		v.Followups = append(v.Followups, id)
	}
	return v, frows.Err()
}

// fillNames sets AssigneeName from the accounts; a missing account leaves it empty.
func (s *Service) fillNames(ctx context.Context, list ...*Ticket) {
	names := map[int64]string{}
	for _, t := range list {
		if t.AssigneeID == 0 {
			continue
		}
		name, ok := names[t.AssigneeID]
		if !ok {
			if u, err := s.users.UserByID(ctx, t.AssigneeID); err == nil {
				name = u.Name
			}
			names[t.AssigneeID] = name
		}
		t.AssigneeName = name
	}
}

// Agents returns the enabled agents (and admins), for the assignment menu.
func (s *Service) Agents(ctx context.Context) ([]*rocca.User, error) {
	all, err := s.users.Users(ctx)
	if err != nil {
		return nil, fmt.Errorf("list agents: %w", err)
	}
	var out []*rocca.User
	for _, u := range all {
		if !u.Disabled && isAgent(u) {
			out = append(out, u)
		}
	}
	return out, nil
}
