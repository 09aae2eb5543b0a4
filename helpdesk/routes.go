package helpdesk

import (
	"net/http"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/internal/web"
)

// HomeLinks are the helpdesk's entries of the home page and navigation bar, for cmd/rocca to add
// to web.Server.SetHome.
func HomeLinks() []web.HomeLink {
	return []web.HomeLink{
		{TitleKey: "helpdesk.home.queue.title", DescKey: "helpdesk.home.queue.desc", Href: "/helpdesk", Role: rocca.RoleAgent},
		{TitleKey: "helpdesk.home.requests.title", DescKey: "helpdesk.home.requests.desc", Href: "/requests"},
		{TitleKey: "helpdesk.home.quarantine.title", DescKey: "helpdesk.home.quarantine.desc", Href: "/admin/helpdesk/quarantine", Role: rocca.RoleAdmin},
	}
}

// Routes registers the helpdesk's pages. require is auth.Require, passed in by cmd/rocca: require("")
// lets any signed-in user in.
//
//	/helpdesk                              agent queue (agents, admins)
//	/helpdesk/tickets/{n}                  ticket page: thread, reply, note, assign, status
//	/helpdesk/attachments/{id}             attachment download (agents; requesters for their own tickets)
//	/helpdesk/mails/{id}/raw               the original mail, as evidence (agents for ticket mail, admins)
//	/requests, /requests/new, /requests/{n} staff portal "Le mie richieste" (any signed-in user)
//	/admin/helpdesk/quarantine             quarantined and held mail (admins)
func (s *Service) Routes(h interface{ Handle(string, http.Handler) }, require func(rocca.Role) func(http.Handler) http.Handler) {
	agent, admin, anyUser := require(rocca.RoleAgent), require(rocca.RoleAdmin), require("")
	f := func(fn http.HandlerFunc) http.Handler { return fn }

	h.Handle("GET /helpdesk/static/{file}", f(s.staticServe))

	h.Handle("GET /helpdesk", agent(f(s.queueShow)))
	h.Handle("GET /helpdesk/tickets/{n}", agent(f(s.ticketShow)))
	h.Handle("POST /helpdesk/tickets/{n}/reply", agent(f(s.ticketReply)))
	h.Handle("POST /helpdesk/tickets/{n}/note", agent(f(s.ticketNote)))
	h.Handle("POST /helpdesk/tickets/{n}/assign", agent(f(s.ticketAssign)))
	h.Handle("POST /helpdesk/tickets/{n}/update", agent(f(s.ticketUpdate)))
	h.Handle("GET /helpdesk/attachments/{id}", anyUser(f(s.attachmentDownload)))
	h.Handle("GET /helpdesk/mails/{id}/raw", agent(f(s.mailDownload)))

	h.Handle("GET /requests", anyUser(f(s.requestsList)))
	h.Handle("GET /requests/new", anyUser(f(s.requestNewShow)))
	h.Handle("POST /requests", anyUser(f(s.requestCreate)))
	h.Handle("GET /requests/{n}", anyUser(f(s.requestShow)))
	h.Handle("POST /requests/{n}/reply", anyUser(f(s.requestReply)))

	h.Handle("GET /admin/helpdesk/quarantine", admin(f(s.quarantineList)))
	h.Handle("POST /admin/helpdesk/quarantine/{id}/release", admin(f(s.quarantineRelease)))
	h.Handle("POST /admin/helpdesk/quarantine/{id}/discard", admin(f(s.quarantineDiscard)))
}
