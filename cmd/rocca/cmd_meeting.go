package main

import (
	"errors"
	"flag"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/conferencing"
	"github.com/rocca-pa/rocca/conferencing/council"
)

func (c *cli) cmdMeeting(args []string) int {
	if len(args) > 0 {
		switch args[0] {
		case "create":
			return c.meetingCreate(args[1:])
		case "list":
			return c.meetingList(args[1:])
		case "council":
			return c.meetingCouncil(args[1:])
		case "-h", "--help", "help":
			fmt.Fprintln(c.stdout, c.t("cli.usage.meeting"))
			fmt.Fprintln(c.stdout, c.t("cli.usage.meeting_council"))
			return exitOK
		}
	}
	fmt.Fprintln(c.stderr, c.t("cli.usage.meeting"))
	fmt.Fprintln(c.stderr, c.t("cli.usage.meeting_council"))
	return exitUsage
}

func (c *cli) meetingCreate(args []string) int {
	fs := c.flags("meeting create", "cli.usage.meeting")
	var in conferencing.NewMeeting
	fs.StringVar(&in.Title, "title", "", c.t("cli.flag.meeting_title"))
	start := fs.String("start", "", c.t("cli.flag.meeting_start"))
	fs.IntVar(&in.DurationMin, "duration", 60, c.t("cli.flag.meeting_duration"))
	fs.BoolVar(&in.Council, "council", false, c.t("cli.flag.meeting_council"))
	fs.BoolVar(&in.Locked, "locked", false, c.t("cli.flag.meeting_locked"))
	invite := fs.String("invite", "", c.t("cli.flag.meeting_invite"))
	asJSON := fs.Bool("json", false, c.t("cli.flag.json"))
	if code, stop := c.parse(fs, args); stop {
		return code
	}
	if in.Title == "" || fs.NArg() != 0 {
		return c.usageError(fs, "cli.error.meeting_title")
	}
	if *start != "" {
		t, err := parseStart(*start)
		if err != nil {
			return c.fail(err)
		}
		in.StartsAt = t
	}
	for _, a := range strings.Split(*invite, ",") {
		if a = strings.TrimSpace(a); a != "" {
			in.Invitees = append(in.Invitees, a)
		}
	}
	var m conferencing.Meeting
	if code, ok := c.adminDo("POST", "/v1/meetings", in, &m); !ok {
		return code
	}
	if *asJSON {
		return c.printJSON(m)
	}
	fmt.Fprintln(c.stdout, c.t("cli.meeting.created", m.Title, m.StartsAt.Local().Format("02/01/2006 15:04")))
	fmt.Fprintln(c.stdout, m.Link)
	return exitOK
}

// parseStart reads a start time as a person types it: "2026-12-01 18:00" (local time) or RFC 3339.
func parseStart(s string) (time.Time, error) {
	for _, layout := range []string{"2006-01-02 15:04", "2006-01-02T15:04", "02/01/2006 15:04"} {
		if t, err := time.ParseInLocation(layout, s, time.Local); err == nil {
			return t, nil
		}
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, rocca.Localized(rocca.EINVALID, "cli.error.meeting_start", "cannot read the start time "+s, s)
}

func (c *cli) meetingList(args []string) int {
	fs := c.flags("meeting list", "cli.usage.meeting")
	all := fs.Bool("all", false, c.t("cli.flag.meeting_all"))
	asJSON := fs.Bool("json", false, c.t("cli.flag.json"))
	if code, stop := c.parse(fs, args); stop {
		return code
	}
	path := "/v1/meetings"
	if *all {
		path += "?all=1"
	}
	var list []conferencing.Meeting
	if code, ok := c.adminDo("GET", path, nil, &list); !ok {
		return code
	}
	if *asJSON {
		if list == nil {
			list = []conferencing.Meeting{}
		}
		return c.printJSON(list)
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, c.t("cli.meeting.list_header"))
	for _, m := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", m.StartsAt.Local().Format("02/01/2006 15:04"), m.Title, m.Link)
	}
	tw.Flush()
	return exitOK
}

// meetingCouncil sets up the council session of a meeting created with --council, or shows its
// setup when no setup flag is given.
func (c *cli) meetingCouncil(args []string) int {
	fs := c.flags("meeting council", "cli.usage.meeting_council")
	var in conferencing.CouncilRequest
	fs.StringVar(&in.Chair, "chair", "", c.t("cli.flag.council_chair"))
	fs.StringVar(&in.Secretary, "secretary", "", c.t("cli.flag.council_secretary"))
	fs.Func("seat", c.t("cli.flag.council_seat"), func(v string) error {
		st, err := parseSeat(v)
		if err != nil {
			return errors.New(c.t("cli.error.council_seat"))
		}
		in.Seats = append(in.Seats, st)
		return nil
	})
	fs.Func("item", c.t("cli.flag.council_item"), func(v string) error {
		in.Agenda = append(in.Agenda, v)
		return nil
	})
	quorum := fs.String("quorum", "majority", c.t("cli.flag.council_quorum"))
	public := fs.Bool("public", false, c.t("cli.flag.council_public"))
	closed := fs.Bool("closed", false, c.t("cli.flag.council_closed"))
	fs.BoolVar(&in.RecordClosed, "record-closed", false, c.t("cli.flag.council_record_closed"))
	asJSON := fs.Bool("json", false, c.t("cli.flag.json"))
	if code, stop := c.parse(fs, args); stop {
		return code
	}
	if fs.NArg() != 1 {
		return c.usageError(fs, "cli.error.council_meeting")
	}
	in.Meeting = meetingRef(fs.Arg(0))
	setting := false
	fs.Visit(func(f *flag.Flag) { setting = setting || (f.Name != "json" && f.Name != "config") })
	var info conferencing.CouncilInfo
	if !setting {
		if code, ok := c.adminDo("GET", "/v1/meetings/council?meeting="+url.QueryEscape(in.Meeting), nil, &info); !ok {
			return code
		}
		return c.showCouncil(&info, *asJSON, false)
	}
	switch {
	case in.Chair == "" || in.Secretary == "" || len(in.Seats) == 0:
		return c.usageError(fs, "cli.error.council_need")
	case *public == *closed:
		return c.usageError(fs, "cli.error.council_public")
	}
	in.Public = *public
	rule, ok := parseQuorum(*quorum)
	if !ok {
		return c.usageError(fs, "cli.error.council_quorum", *quorum)
	}
	in.Quorum = rule
	if code, ok := c.adminDo("POST", "/v1/meetings/council", in, &info); !ok {
		return code
	}
	return c.showCouncil(&info, *asJSON, true)
}

// parseSeat reads --seat N=EMAIL[,nq]: nq marks a member not counted for the quorum.
func parseSeat(v string) (conferencing.CouncilSeatRequest, error) {
	n, rest, ok := strings.Cut(v, "=")
	seat, err := strconv.Atoi(strings.TrimSpace(n))
	if !ok || err != nil {
		return conferencing.CouncilSeatRequest{}, fmt.Errorf("bad seat %q", v)
	}
	email, flag, _ := strings.Cut(rest, ",")
	email = strings.TrimSpace(email)
	st := conferencing.CouncilSeatRequest{Email: email, Seat: seat}
	switch strings.TrimSpace(flag) {
	case "":
	case "nq":
		no := false
		st.CountsForQuorum = &no
	default:
		return st, fmt.Errorf("bad seat %q", v)
	}
	if email == "" {
		return st, fmt.Errorf("bad seat %q", v)
	}
	return st, nil
}

// parseQuorum reads --quorum: majority, one_third, or a fixed number.
func parseQuorum(v string) (council.QuorumRule, bool) {
	switch v {
	case string(council.QuorumMajority), string(council.QuorumOneThird):
		return council.QuorumRule{Kind: council.QuorumKind(v)}, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return council.QuorumRule{}, false
	}
	return council.QuorumRule{Kind: council.QuorumCustom, N: n}, true
}

// meetingRef takes a meeting's code, or the join link that `meeting create` printed.
func meetingRef(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, "?#"); i >= 0 {
		s = s[:i]
	}
	s = strings.TrimRight(s, "/")
	if i := strings.LastIndex(s, "/"); i >= 0 {
		s = s[i+1:]
	}
	return s
}

// showCouncil prints a council setup: JSON, or lines for people.
func (c *cli) showCouncil(info *conferencing.CouncilInfo, asJSON, saved bool) int {
	if asJSON {
		return c.printJSON(info)
	}
	if saved {
		fmt.Fprintln(c.stdout, c.t("cli.meeting.council_saved"))
	}
	fmt.Fprintln(c.stdout, c.t("cli.meeting.council_title", info.Title, c.t(councilStateKey(info.State))))
	fmt.Fprintln(c.stdout, c.t("cli.meeting.council_chair", person(info.ChairName, info.ChairEmail)))
	fmt.Fprintln(c.stdout, c.t("cli.meeting.council_secretary", person(info.SecretaryName, info.SecretaryEmail)))
	if info.Public {
		fmt.Fprintln(c.stdout, c.t("cli.meeting.council_public"))
	} else {
		fmt.Fprintln(c.stdout, c.t("cli.meeting.council_closed"))
	}
	if info.RecordClosed {
		fmt.Fprintln(c.stdout, c.t("cli.meeting.council_record_closed"))
	}
	fmt.Fprintln(c.stdout, c.t(councilQuorumKey(info.Quorum.Kind), info.Required, info.Assigned))
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, c.t("cli.meeting.council_seats_header"))
	for _, st := range info.Seats {
		counts := c.t("cli.meeting.council_counts_yes")
		if !st.CountsForQuorum {
			counts = c.t("cli.meeting.council_counts_no")
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", st.Seat, st.Name, info.SeatEmails[st.Seat], counts)
	}
	tw.Flush()
	if len(info.Agenda) == 0 {
		fmt.Fprintln(c.stdout, c.t("cli.meeting.council_agenda_none"))
		return exitOK
	}
	fmt.Fprintln(c.stdout, c.t("cli.meeting.council_agenda"))
	for i, item := range info.Agenda {
		fmt.Fprintf(c.stdout, "  %d. %s\n", i+1, item)
	}
	return exitOK
}

// councilStateKey is the catalog key of a session's state.
func councilStateKey(state string) string {
	switch state {
	case conferencing.CouncilOpen:
		return "cli.meeting.council_open"
	case conferencing.CouncilClosed:
		return "cli.meeting.council_sealed"
	}
	return "cli.meeting.council_scheduled"
}

// councilQuorumKey is the catalog key of a quorum rule, with the required and assigned counts.
func councilQuorumKey(kind council.QuorumKind) string {
	switch kind {
	case council.QuorumOneThird:
		return "cli.meeting.council_quorum_one_third"
	case council.QuorumCustom:
		return "cli.meeting.council_quorum_custom"
	}
	return "cli.meeting.council_quorum_majority"
}

func person(name, email string) string {
	switch {
	case name == "":
		return email
	case email == "":
		return name
	}
	return name + " <" + email + ">"
}
