package main

import (
	"fmt"
	"net/url"
	"strconv"
	"text/tabwriter"

	"github.com/rocca-pa/rocca/helpdesk"
)

func (c *cli) cmdTicket(args []string) int {
	if len(args) > 0 {
		switch args[0] {
		case "list":
			return c.ticketList(args[1:])
		case "show":
			return c.ticketShow(args[1:])
		case "-h", "--help", "help":
			fmt.Fprintln(c.stdout, c.t("cli.usage.ticket"))
			return exitOK
		}
	}
	fmt.Fprintln(c.stderr, c.t("cli.usage.ticket"))
	return exitUsage
}

func (c *cli) ticketList(args []string) int {
	fs := c.flags("ticket list", "cli.usage.ticket")
	status := fs.String("status", "", c.t("cli.flag.ticket_status"))
	limit := fs.Int("limit", 100, c.t("cli.flag.ticket_limit"))
	asJSON := fs.Bool("json", false, c.t("cli.flag.json"))
	if code, stop := c.parse(fs, args); stop {
		return code
	}
	q := url.Values{"status": {*status}, "limit": {strconv.Itoa(*limit)}}
	var list []*helpdesk.Ticket
	if code, ok := c.adminDo("GET", "/v1/tickets?"+q.Encode(), nil, &list); !ok {
		return code
	}
	if *asJSON {
		if list == nil {
			list = []*helpdesk.Ticket{}
		}
		return c.printJSON(list)
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, c.t("cli.ticket.list_header"))
	for _, t := range list {
		fmt.Fprintf(tw, "#%d\t%s\t%s\t%s\t%s\n", t.Number, c.t("helpdesk.status."+string(t.Status)), t.RequesterEmail,
			t.UpdatedAt.Local().Format("02/01 15:04"), t.Subject)
	}
	tw.Flush()
	return exitOK
}

func (c *cli) ticketShow(args []string) int {
	fs := c.flags("ticket show", "cli.usage.ticket")
	asJSON := fs.Bool("json", false, c.t("cli.flag.json"))
	if code, stop := c.parse(fs, args); stop {
		return code
	}
	if fs.NArg() != 1 {
		return c.usageError(fs, "cli.error.ticket_number")
	}
	var v helpdesk.TicketView
	if code, ok := c.adminDo("GET", "/v1/tickets/"+url.PathEscape(fs.Arg(0)), nil, &v); !ok {
		return code
	}
	if *asJSON {
		return c.printJSON(v)
	}
	t := v.Ticket
	fmt.Fprintln(c.stdout, c.t("cli.ticket.header", t.Number, t.Subject, c.t("helpdesk.status."+string(t.Status)), t.RequesterEmail))
	for _, m := range v.Messages {
		fmt.Fprintln(c.stdout)
		fmt.Fprintln(c.stdout, c.t("cli.ticket.message", m.CreatedAt.Local().Format("02/01/2006 15:04"), m.FromEmail, c.t("cli.ticket.kind."+string(m.Kind))))
		fmt.Fprintln(c.stdout, m.Text)
	}
	return exitOK
}
