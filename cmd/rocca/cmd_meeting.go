package main

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/conferencing"
)

func (c *cli) cmdMeeting(args []string) int {
	if len(args) > 0 {
		switch args[0] {
		case "create":
			return c.meetingCreate(args[1:])
		case "list":
			return c.meetingList(args[1:])
		case "-h", "--help", "help":
			fmt.Fprintln(c.stdout, c.t("cli.usage.meeting"))
			return exitOK
		}
	}
	fmt.Fprintln(c.stderr, c.t("cli.usage.meeting"))
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
