package council

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // the verbale states Italian time even on a host without a zoneinfo database

	"github.com/rocca-pa/rocca/internal/i18n"
)

// Document is the minutes laid out in one language: headings, paragraphs and tables, every
// text already localized. WriteODT and WriteHTML render the same Document, so the two files say
// the same thing; a web page can render it inside its own layout (Document.HTMLBody).
type Document struct {
	Lang    string
	Title   string
	Created time.Time // when the session opened (the document's date)
	Blocks  []Block
}

// BlockKind is what a Block is.
type BlockKind string

// The kinds of block.
const (
	BlockHeading   BlockKind = "heading"
	BlockParagraph BlockKind = "paragraph"
	BlockTable     BlockKind = "table"
)

// Block is a heading (Level 1 is the document title, 2 a section, 3 a subsection), a paragraph
// (Lines, each on a line of its own) or a table.
type Block struct {
	Kind   BlockKind
	Level  int
	Lines  []string
	Strong bool // a paragraph to notice (a warning about the record)
	Table  *Table
}

// IsHeading, IsParagraph and IsTable tell templates what a block is.
func (b Block) IsHeading() bool   { return b.Kind == BlockHeading }
func (b Block) IsParagraph() bool { return b.Kind == BlockParagraph }
func (b Block) IsTable() bool     { return b.Kind == BlockTable }

// Text is the block's lines joined by spaces (headings).
func (b Block) Text() string { return strings.Join(b.Lines, " ") }

// Table is a table with a caption and a header row. With RowHeaders the first cell of each row
// names the row (a member, a choice).
type Table struct {
	Name       string // unique within the document
	Caption    string
	Header     []string
	Rows       [][]Cell
	RowHeaders bool
	Widths     []int // relative column widths for a page (ODT); nil: equal
}

// Cell is the lines of one table cell.
type Cell []string

// rome is where the sessions take place: times in the verbale are Italian time.
func rome() *time.Location {
	loc, err := time.LoadLocation("Europe/Rome")
	if err != nil { // cannot happen with time/tzdata linked in
		return time.UTC
	}
	return loc
}

// builder lays out one Document.
type builder struct {
	c      *i18n.Catalog
	lang   string
	m      *Minutes
	loc    *time.Location
	d      *Document
	names  map[string]string // member id -> name, for the "by" fields
	tables int
}

// Document lays the minutes out in lang.
func (m *Minutes) Document(c *i18n.Catalog, lang string) *Document {
	lang = c.Supported(lang)
	b := &builder{c: c, lang: lang, m: m, loc: rome(), names: map[string]string{},
		d: &Document{Lang: lang, Created: m.Opened.Time}}
	for id, n := range m.Names {
		b.names[id] = n
	}
	for _, a := range m.Members {
		b.names[a.ID] = a.Name
	}
	b.d.Title = b.c.T(b.lang, "council.minutes.doc_title")
	if m.Title != "" {
		b.d.Title += " — " + m.Title
	}
	b.heading(1, b.d.Title)
	b.para(b.c.T(b.lang, "council.minutes.draft_note"))
	b.session()
	b.record()
	b.agenda()
	b.attendance()
	b.rollCalls()
	b.quorum()
	b.suspensions()
	b.turns()
	b.votes()
	b.recording()
	b.events()
	b.signatures()
	return b.d
}

func (b *builder) heading(level int, text string) {
	b.d.Blocks = append(b.d.Blocks, Block{Kind: BlockHeading, Level: level, Lines: []string{text}})
}

func (b *builder) para(lines ...string) {
	b.d.Blocks = append(b.d.Blocks, Block{Kind: BlockParagraph, Lines: lines})
}

func (b *builder) warn(lines ...string) {
	b.d.Blocks = append(b.d.Blocks, Block{Kind: BlockParagraph, Lines: lines, Strong: true})
}

func (b *builder) table(caption string, rowHeaders bool, header []string, rows [][]Cell, widths ...int) {
	b.tables++
	b.d.Blocks = append(b.d.Blocks, Block{Kind: BlockTable, Table: &Table{Name: "T" + strconv.Itoa(b.tables),
		Caption: caption, Header: header, Rows: rows, RowHeaders: rowHeaders, Widths: widths}})
}

// item names the agenda item a vote is on: "2. Title" when the vote names it by number.
func (b *builder) item(item string) string {
	if n, err := strconv.Atoi(strings.TrimSpace(item)); err == nil {
		for _, it := range b.m.Agenda {
			if it.N == n {
				return fmt.Sprintf("%d. %s", it.N, it.Title)
			}
		}
	}
	return orDash(item)
}

// date, clock and at write times the way the verbale reads them, in Italian time.
func (b *builder) date(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	if b.lang == "en" {
		return t.In(b.loc).Format("2 Jan 2006")
	}
	return t.In(b.loc).Format("02/01/2006")
}

// clock is the time of day, with the date when it is not the day the session opened.
func (b *builder) clock(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	t = t.In(b.loc)
	if o := b.m.Opened.Time.In(b.loc); !b.m.Opened.Time.IsZero() && t.YearDay() == o.YearDay() && t.Year() == o.Year() {
		return t.Format("15:04:05")
	}
	return b.date(t) + " " + t.Format("15:04:05")
}

// at is the time of an event and, while recording, its offset into the recording.
func (b *builder) at(s Stamp) string {
	if !s.Valid() {
		return "—"
	}
	if s.Recording == 0 {
		return b.clock(s.Time)
	}
	return b.c.T(b.lang, "council.minutes.at_recording", b.clock(s.Time), b.offset(s))
}

// offset is the position of an event in the recording ("" when not recording).
func (b *builder) offset(s Stamp) string {
	if s.Recording == 0 {
		return ""
	}
	if len(b.m.Recordings) > 1 {
		return b.c.T(b.lang, "council.minutes.offset_n", duration(s.Offset), s.Recording)
	}
	return duration(s.Offset)
}

// duration is h:mm:ss.
func duration(d time.Duration) string {
	sign := ""
	if d < 0 {
		sign, d = "-", -d
	}
	d = d.Round(time.Second)
	return fmt.Sprintf("%s%d:%02d:%02d", sign, int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60)
}

// who names the person behind a "by" field: a member's name, or the id the server wrote.
func (b *builder) who(id string) string {
	if n, ok := b.names[id]; ok {
		return n
	}
	if id == "" {
		return "—"
	}
	return id
}

func (b *builder) namesOf(ms []Member) string {
	if len(ms) == 0 {
		return b.c.T(b.lang, "council.minutes.none")
	}
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Name
	}
	return strings.Join(out, ", ")
}

func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "—"
	}
	return s
}

func (b *builder) session() {
	m := b.m
	b.heading(2, b.c.T(b.lang, "council.minutes.h.session"))
	lines := []string{b.c.T(b.lang, "council.minutes.title_line", orDash(m.Title)),
		b.c.T(b.lang, "council.minutes.session_id", orDash(m.Session)),
		b.c.T(b.lang, "council.minutes.opened", b.date(m.Opened.Time), b.clock(m.Opened.Time))}
	if m.Closed.Valid() {
		lines = append(lines, b.c.T(b.lang, "council.minutes.closed", b.date(m.Closed.Time), b.clock(m.Closed.Time), b.who(m.ClosedBy)))
	} else {
		lines = append(lines, b.c.T(b.lang, "council.minutes.not_closed"))
	}
	if m.Public {
		lines = append(lines, b.c.T(b.lang, "council.minutes.public"))
	} else {
		lines = append(lines, b.c.T(b.lang, "council.minutes.closed_session"))
	}
	for _, pc := range m.PublicChanges {
		if pc.Public {
			lines = append(lines, b.c.T(b.lang, "council.minutes.public_changed_public", b.at(pc.Stamp), b.who(pc.By)))
		} else {
			lines = append(lines, b.c.T(b.lang, "council.minutes.public_changed_closed", b.at(pc.Stamp), b.who(pc.By)))
		}
	}
	lines = append(lines, b.quorumRule())
	if m.MediaWindow > 0 {
		lines = append(lines, b.c.T(b.lang, "council.minutes.presence_rule", int(m.MediaWindow/time.Second)))
	}
	lines = append(lines, b.c.T(b.lang, "council.minutes.timezone"))
	b.para(lines...)
}

func (b *builder) quorumRule() string {
	assigned := 0
	for _, a := range b.m.Members {
		if a.CountsForQuorum {
			assigned++
		}
	}
	required := b.m.QuorumRule.Required(assigned)
	if len(b.m.Quorum) > 0 { // what the session computed, as recorded
		required, assigned = b.m.Quorum[0].Required, b.m.Quorum[0].Assigned
	}
	switch b.m.QuorumRule.Kind {
	case QuorumOneThird:
		return b.c.T(b.lang, "council.minutes.quorum_rule.one_third", required, assigned)
	case QuorumCustom:
		return b.c.T(b.lang, "council.minutes.quorum_rule.custom", required, assigned)
	}
	return b.c.T(b.lang, "council.minutes.quorum_rule.majority", required, assigned)
}

func (b *builder) problem(p Problem) string {
	switch p {
	case ProblemFormat:
		return b.c.T(b.lang, "cli.council.problem.format")
	case ProblemHash:
		return b.c.T(b.lang, "cli.council.problem.hash")
	case ProblemSeq:
		return b.c.T(b.lang, "cli.council.problem.seq")
	case ProblemChain:
		return b.c.T(b.lang, "cli.council.problem.chain")
	case ProblemEmpty:
		return b.c.T(b.lang, "cli.council.problem.empty")
	case ProblemUnsealed:
		return b.c.T(b.lang, "cli.council.problem.unsealed")
	case ProblemSeal:
		return b.c.T(b.lang, "cli.council.problem.seal")
	case ProblemSignature:
		return b.c.T(b.lang, "cli.council.problem.signature")
	case ProblemUntrusted:
		return b.c.T(b.lang, "cli.council.problem.untrusted")
	case ProblemAfterSeal:
		return b.c.T(b.lang, "cli.council.problem.after_seal")
	}
	return string(p)
}

func (b *builder) record() {
	m := b.m
	b.heading(2, b.c.T(b.lang, "council.minutes.h.record"))
	switch {
	case m.Valid:
		b.para(b.c.T(b.lang, "council.minutes.record.valid", m.Entries, b.date(m.SealedAt), b.clock(m.SealedAt), m.Fingerprint))
	case m.Problem == ProblemUnsealed:
		b.warn(b.c.T(b.lang, "council.minutes.record.unsealed"))
	case m.ProblemEntry > 0:
		b.warn(b.c.T(b.lang, "council.minutes.record.invalid_entry", m.ProblemEntry, b.problem(m.Problem)))
	default:
		b.warn(b.c.T(b.lang, "council.minutes.record.invalid", b.problem(m.Problem)))
	}
	if m.Skipped > 0 {
		b.warn(b.c.T(b.lang, "council.minutes.record.skipped", m.Skipped))
	}
}

func (b *builder) agenda() {
	b.heading(2, b.c.T(b.lang, "council.minutes.h.agenda"))
	if len(b.m.Agenda) == 0 {
		b.para(b.c.T(b.lang, "council.minutes.agenda_none"))
		return
	}
	lines := make([]string, len(b.m.Agenda))
	for i, it := range b.m.Agenda {
		lines[i] = fmt.Sprintf("%d. %s", it.N, it.Title)
	}
	b.para(lines...)
}

func (b *builder) attendance() {
	m := b.m
	b.heading(2, b.c.T(b.lang, "council.minutes.h.attendance"))
	header := []string{b.c.T(b.lang, "council.minutes.col.member"), b.c.T(b.lang, "council.minutes.col.seat"),
		b.c.T(b.lang, "council.minutes.col.quorum")}
	for _, rc := range m.RollCalls {
		header = append(header, b.c.T(b.lang, "council.minutes.col.roll_call", rc.N))
	}
	header = append(header, b.c.T(b.lang, "council.minutes.col.presence"), b.c.T(b.lang, "council.minutes.col.movements"),
		b.c.T(b.lang, "council.minutes.col.overrides"))
	widths := []int{4, 1, 2}
	for range m.RollCalls {
		widths = append(widths, 2)
	}
	widths = append(widths, 3, 5, 5)
	var rows [][]Cell
	for _, a := range m.Members {
		counts := b.c.T(b.lang, "council.minutes.not_counted")
		if a.CountsForQuorum {
			counts = b.c.T(b.lang, "council.minutes.counted")
		}
		row := []Cell{{a.Name}, {strconv.Itoa(a.Seat)}, {counts}}
		for _, present := range a.RollCalls {
			row = append(row, Cell{b.presentWord(present)})
		}
		row = append(row, b.presenceCell(a), b.movementsCell(a), b.overridesCell(a))
		rows = append(rows, row)
	}
	b.table(b.c.T(b.lang, "council.minutes.attendance_caption"), true, header, rows, widths...)
}

func (b *builder) presentWord(present bool) string {
	if present {
		return b.c.T(b.lang, "council.minutes.present")
	}
	return b.c.T(b.lang, "council.minutes.absent")
}

func (b *builder) presenceCell(a Attendance) Cell {
	if len(a.Presence) == 0 {
		return Cell{"—"}
	}
	var c Cell
	for _, iv := range a.Presence {
		if iv.To.Valid() {
			c = append(c, b.clock(iv.From.Time)+" – "+b.clock(iv.To.Time))
		} else {
			c = append(c, b.c.T(b.lang, "council.minutes.from", b.clock(iv.From.Time)))
		}
	}
	return c
}

func (b *builder) movementsCell(a Attendance) Cell {
	if len(a.Movements) == 0 {
		return Cell{"—"}
	}
	var c Cell
	for _, mv := range a.Movements {
		switch mv.Kind {
		case "arrival":
			c = append(c, b.c.T(b.lang, "council.minutes.move.arrival", b.at(mv.Stamp)))
		case "departure":
			c = append(c, b.c.T(b.lang, "council.minutes.move.departure", b.at(mv.Stamp)))
		default:
			c = append(c, b.c.T(b.lang, "council.minutes.move.reconnection", b.at(mv.Stamp)))
		}
	}
	return c
}

func (b *builder) overridesCell(a Attendance) Cell {
	if len(a.Overrides) == 0 {
		return Cell{"—"}
	}
	var c Cell
	for _, o := range a.Overrides {
		s := b.c.T(b.lang, "council.minutes.override_absent", b.at(o.Stamp), b.who(o.By), o.Note)
		if o.Present {
			s = b.c.T(b.lang, "council.minutes.override_present", b.at(o.Stamp), b.who(o.By), o.Note)
		}
		if o.Cleared.Valid() {
			s += " " + b.c.T(b.lang, "council.minutes.override_cleared", b.at(o.Cleared), b.who(o.ClearedBy))
		}
		c = append(c, s)
	}
	return c
}

func (b *builder) rollCalls() {
	b.heading(2, b.c.T(b.lang, "council.minutes.h.roll_calls"))
	if len(b.m.RollCalls) == 0 {
		b.para(b.c.T(b.lang, "council.minutes.roll_calls_none"))
		return
	}
	for _, rc := range b.m.RollCalls {
		b.heading(3, b.c.T(b.lang, "council.minutes.roll_call", rc.N))
		var lines []string
		if rc.Started.Valid() {
			lines = append(lines, b.c.T(b.lang, "council.minutes.roll_call.started", b.at(rc.Started), b.who(rc.StartedBy)))
		}
		if !rc.Closed.Valid() {
			b.para(append(lines, b.c.T(b.lang, "council.minutes.roll_call.not_closed"))...)
			continue
		}
		lines = append(lines, b.c.T(b.lang, "council.minutes.roll_call.closed", b.at(rc.Closed), b.who(rc.ClosedBy)),
			b.c.T(b.lang, "council.minutes.roll_call.present", len(rc.Present), b.namesOf(rc.Present)),
			b.c.T(b.lang, "council.minutes.roll_call.absent", len(rc.Absent), b.namesOf(rc.Absent)))
		if rc.Quorum {
			lines = append(lines, b.c.T(b.lang, "council.minutes.roll_call.quorum_yes", rc.Counted, rc.Required))
		} else {
			lines = append(lines, b.c.T(b.lang, "council.minutes.roll_call.quorum_no", rc.Counted, rc.Required))
		}
		b.para(lines...)
	}
}

func (b *builder) quorum() {
	b.heading(2, b.c.T(b.lang, "council.minutes.h.quorum"))
	var rows [][]Cell
	for _, q := range b.m.Quorum {
		var what string
		switch q.Kind {
		case "initial":
			what = b.c.T(b.lang, "council.minutes.quorum.initial")
		case "gained":
			what = b.c.T(b.lang, "council.minutes.quorum.gained")
		case "lost":
			what = b.c.T(b.lang, "council.minutes.quorum.lost")
		default:
			what = b.c.T(b.lang, "council.minutes.quorum.closing")
		}
		state := b.c.T(b.lang, "council.minutes.quorum.no")
		if q.Quorum {
			state = b.c.T(b.lang, "council.minutes.quorum.yes")
		}
		rows = append(rows, []Cell{{b.clock(q.Time)}, {orDash(b.offset(q.Stamp))}, {what}, {state},
			{strconv.Itoa(q.Present)}, {strconv.Itoa(q.Required)}})
	}
	b.table(b.c.T(b.lang, "council.minutes.quorum_caption"), false, []string{b.c.T(b.lang, "council.minutes.col.time"),
		b.c.T(b.lang, "council.minutes.col.recording"), b.c.T(b.lang, "council.minutes.col.event"),
		b.c.T(b.lang, "council.minutes.col.quorum"), b.c.T(b.lang, "council.minutes.col.counted"),
		b.c.T(b.lang, "council.minutes.col.required")}, rows, 2, 2, 4, 2, 2, 2)
}

func (b *builder) suspensions() {
	b.heading(2, b.c.T(b.lang, "council.minutes.h.suspensions"))
	if len(b.m.Suspensions) == 0 {
		b.para(b.c.T(b.lang, "council.minutes.suspensions_none"))
		return
	}
	for _, s := range b.m.Suspensions {
		lines := []string{b.c.T(b.lang, "council.minutes.suspended", b.at(s.Suspended), b.who(s.By), orDash(s.Reason))}
		if s.Resumed.Valid() {
			lines = append(lines, b.c.T(b.lang, "council.minutes.resumed", b.at(s.Resumed), b.who(s.ResumedBy)))
		} else {
			lines = append(lines, b.c.T(b.lang, "council.minutes.not_resumed"))
		}
		b.para(lines...)
	}
}

func (b *builder) limit(d time.Duration) string {
	if d <= 0 {
		return b.c.T(b.lang, "council.minutes.no_limit")
	}
	return duration(d)
}

func (b *builder) turns() {
	b.heading(2, b.c.T(b.lang, "council.minutes.h.turns"))
	if len(b.m.Turns) == 0 {
		b.para(b.c.T(b.lang, "council.minutes.turns_none"))
		return
	}
	var rows [][]Cell
	for _, t := range b.m.Turns {
		end, dur := "—", "—"
		if t.Ended.Valid() {
			end, dur = b.clock(t.Ended.Time), duration(t.Duration())
			if t.EndedBy == "" {
				end += " (" + b.c.T(b.lang, "council.minutes.turn_session_closed") + ")"
			}
		}
		rows = append(rows, []Cell{{t.Name}, {b.clock(t.Granted.Time)}, {b.who(t.By)}, {b.limit(t.Limit)}, {end}, {dur},
			{orDash(b.offset(t.Granted))}})
	}
	b.table(b.c.T(b.lang, "council.minutes.turns_caption"), true, []string{b.c.T(b.lang, "council.minutes.col.member"),
		b.c.T(b.lang, "council.minutes.col.granted"), b.c.T(b.lang, "council.minutes.col.by"),
		b.c.T(b.lang, "council.minutes.col.limit"), b.c.T(b.lang, "council.minutes.col.ended"),
		b.c.T(b.lang, "council.minutes.col.duration"), b.c.T(b.lang, "council.minutes.col.recording")}, rows, 4, 2, 3, 2, 3, 2, 2)
}

// notVoted is who could vote and did not, by seat.
func notVoted(v VoteMinutes) []Member {
	return slices.DeleteFunc(slices.Clone(v.Eligible), func(e Member) bool {
		return slices.ContainsFunc(v.Voters, func(x Member) bool { return x.ID == e.ID })
	})
}

func (b *builder) votes() {
	b.heading(2, b.c.T(b.lang, "council.minutes.h.votes"))
	if len(b.m.Votes) == 0 {
		b.para(b.c.T(b.lang, "council.minutes.votes_none"))
		return
	}
	for _, v := range b.m.Votes {
		b.heading(3, b.c.T(b.lang, "council.minutes.vote", v.N, b.item(v.Item)))
		b.para(append([]string{b.c.T(b.lang, "council.minutes.vote.text")}, strings.Split(orDash(v.Text), "\n")...)...)
		lines := []string{b.c.T(b.lang, "council.minutes.vote.open")}
		if v.Secret {
			lines[0] = b.c.T(b.lang, "council.minutes.vote.secret")
		}
		if v.Closed.Valid() {
			lines = append(lines, b.c.T(b.lang, "council.minutes.vote.times", b.at(v.Opened), b.at(v.Closed)))
		} else {
			lines = append(lines, b.c.T(b.lang, "council.minutes.vote.not_closed", b.at(v.Opened)))
		}
		lines = append(lines, b.c.T(b.lang, "council.minutes.vote.eligible", len(v.Eligible), b.namesOf(v.Eligible)),
			b.c.T(b.lang, "council.minutes.vote.voters", len(v.Voters), b.namesOf(v.Voters)),
			b.c.T(b.lang, "council.minutes.vote.not_voted", len(notVoted(v)), b.namesOf(notVoted(v))))
		b.para(lines...)
		b.voteTable(v)
		switch v.Result {
		case ResultApproved:
			b.para(b.c.T(b.lang, "council.minutes.vote.approved"))
		case ResultRejected:
			b.para(b.c.T(b.lang, "council.minutes.vote.rejected"))
		default:
			b.warn(b.c.T(b.lang, "council.minutes.vote.no_result"))
		}
	}
}

func (b *builder) voteTable(v VoteMinutes) {
	header := []string{b.c.T(b.lang, "council.minutes.col.choice"), b.c.T(b.lang, "council.minutes.col.count")}
	if !v.Secret {
		header = append(header, b.c.T(b.lang, "council.minutes.col.names"))
	}
	choices := []struct {
		c     Choice
		label string
		n     int
	}{
		{Favorevole, b.c.T(b.lang, "council.minutes.choice.favorevole"), v.Totals.Favorevole},
		{Contrario, b.c.T(b.lang, "council.minutes.choice.contrario"), v.Totals.Contrario},
		{Astenuto, b.c.T(b.lang, "council.minutes.choice.astenuto"), v.Totals.Astenuto},
	}
	var rows [][]Cell
	for _, ch := range choices {
		row := []Cell{{ch.label}, {strconv.Itoa(ch.n)}}
		if !v.Secret {
			row = append(row, Cell{b.namesOf(v.ByName[ch.c])})
		}
		rows = append(rows, row)
	}
	total := []Cell{{b.c.T(b.lang, "council.minutes.choice.total")},
		{strconv.Itoa(v.Totals.Favorevole + v.Totals.Contrario + v.Totals.Astenuto)}}
	if !v.Secret {
		total = append(total, Cell{""})
	}
	widths := []int{1, 1}
	if !v.Secret {
		widths = []int{2, 1, 8}
	}
	b.table(b.c.T(b.lang, "council.minutes.vote.totals_caption", v.N), true, header, append(rows, total), widths...)
}

func (b *builder) recording() {
	m := b.m
	b.heading(2, b.c.T(b.lang, "council.minutes.h.recording"))
	if len(m.Recordings) == 0 {
		b.para(b.c.T(b.lang, "council.minutes.recordings_none"))
	} else {
		var rows [][]Cell
		for _, r := range m.Recordings {
			stopped, dur := b.c.T(b.lang, "council.minutes.not_stopped"), "—"
			if r.Stopped.Valid() {
				stopped, dur = b.clock(r.Stopped.Time)+" ("+b.who(r.StoppedBy)+")", duration(r.Stopped.Time.Sub(r.Started.Time))
			}
			rows = append(rows, []Cell{{strconv.Itoa(r.N)}, {b.clock(r.Started.Time)}, {b.who(r.By)}, {stopped}, {dur}})
		}
		b.table(b.c.T(b.lang, "council.minutes.recordings_caption"), true, []string{b.c.T(b.lang, "council.minutes.col.n"),
			b.c.T(b.lang, "council.minutes.col.started"), b.c.T(b.lang, "council.minutes.col.by"),
			b.c.T(b.lang, "council.minutes.col.stopped"), b.c.T(b.lang, "council.minutes.col.duration")}, rows)
		b.para(b.c.T(b.lang, "council.minutes.offsets_note"))
	}
	if len(m.Files) == 0 {
		return
	}
	var rows [][]Cell
	for _, f := range m.Files {
		rows = append(rows, []Cell{{f.File}, {f.SHA256}, {strconv.FormatInt(f.Size, 10)}, {b.clock(f.Time)}})
	}
	b.table(b.c.T(b.lang, "council.minutes.files_caption"), true, []string{b.c.T(b.lang, "council.minutes.col.file"),
		b.c.T(b.lang, "council.minutes.col.sha256"), b.c.T(b.lang, "council.minutes.col.size"),
		b.c.T(b.lang, "council.minutes.col.time")}, rows, 3, 10, 2, 2)
}

func (b *builder) events() {
	b.heading(2, b.c.T(b.lang, "council.minutes.h.events"))
	rows := make([][]Cell, 0, len(b.m.Events))
	for _, e := range b.m.Events {
		rows = append(rows, []Cell{{strconv.FormatInt(e.Seq, 10)}, {b.clock(e.Time)}, {orDash(b.offset(e.Stamp))}, {b.event(e)}})
	}
	b.table(b.c.T(b.lang, "council.minutes.events_caption"), false, []string{b.c.T(b.lang, "council.minutes.col.n"),
		b.c.T(b.lang, "council.minutes.col.time"), b.c.T(b.lang, "council.minutes.col.recording"),
		b.c.T(b.lang, "council.minutes.col.event")}, rows, 1, 2, 2, 10)
}

func (b *builder) reason(r string) string {
	switch r {
	case "connected":
		return b.c.T(b.lang, "council.minutes.reason.connected")
	case "disconnected":
		return b.c.T(b.lang, "council.minutes.reason.disconnected")
	case "media":
		return b.c.T(b.lang, "council.minutes.reason.media")
	case "media_lost":
		return b.c.T(b.lang, "council.minutes.reason.media_lost")
	case "confirmed":
		return b.c.T(b.lang, "council.minutes.reason.confirmed")
	case "override":
		return b.c.T(b.lang, "council.minutes.reason.override")
	case "override_cleared":
		return b.c.T(b.lang, "council.minutes.reason.override_cleared")
	}
	return orDash(r)
}

func (b *builder) choice(c Choice) string {
	switch c {
	case Favorevole:
		return b.c.T(b.lang, "council.minutes.cast.favorevole")
	case Contrario:
		return b.c.T(b.lang, "council.minutes.cast.contrario")
	case Astenuto:
		return b.c.T(b.lang, "council.minutes.cast.astenuto")
	}
	return string(c)
}

// event is one line of the chronology.
func (b *builder) event(e Event) string {
	if s, ok := b.memberEvent(e); ok {
		return s
	}
	switch e.Type {
	case "session_opened":
		if e.File != "" {
			return b.c.T(b.lang, "council.minutes.ev.session_reopened", e.File)
		}
		return b.c.T(b.lang, "council.minutes.ev.session_opened")
	case "session_interrupted":
		return b.c.T(b.lang, "council.minutes.ev.session_interrupted", orDash(e.File))
	case "quorum", "quorum_gained", "quorum_lost", "session_closed":
		return b.quorumEvent(e)
	case "roll_call_started":
		return b.c.T(b.lang, "council.minutes.ev.roll_call_started", b.who(e.By))
	case "roll_call":
		for _, rc := range b.m.RollCalls {
			if rc.Closed.Seq == e.Seq {
				return b.c.T(b.lang, "council.minutes.ev.roll_call", rc.N, len(rc.Present), len(rc.Absent))
			}
		}
	case "vote_opened":
		how := b.c.T(b.lang, "council.minutes.open_vote")
		if e.Secret {
			how = b.c.T(b.lang, "council.minutes.secret_vote")
		}
		return b.c.T(b.lang, "council.minutes.ev.vote_opened", e.Vote, how, b.item(e.Item))
	case "vote_voters":
		return b.c.T(b.lang, "council.minutes.ev.vote_voters", e.Vote)
	case "vote_closed":
		if e.Totals != nil {
			return b.c.T(b.lang, "council.minutes.ev.vote_closed", e.Vote, e.Totals.Favorevole, e.Totals.Contrario, e.Totals.Astenuto)
		}
	case "suspended":
		return b.c.T(b.lang, "council.minutes.ev.suspended", b.who(e.By), orDash(e.Reason))
	case "resumed":
		return b.c.T(b.lang, "council.minutes.ev.resumed", b.who(e.By))
	case "public_changed":
		if e.Present {
			return b.c.T(b.lang, "council.minutes.ev.public", b.who(e.By))
		}
		return b.c.T(b.lang, "council.minutes.ev.closed_session", b.who(e.By))
	case "recording_started":
		return b.c.T(b.lang, "council.minutes.ev.recording_started", e.Recording, b.who(e.By))
	case "recording_stopped":
		return b.c.T(b.lang, "council.minutes.ev.recording_stopped", b.who(e.By))
	case "recording_file":
		return b.c.T(b.lang, "council.minutes.ev.recording_file", e.File)
	}
	return b.c.T(b.lang, "council.minutes.ev.other", e.Type)
}

func (b *builder) quorumEvent(e Event) string {
	q := e.Quorum
	switch e.Type {
	case "quorum":
		return b.c.T(b.lang, "council.minutes.ev.quorum", q.Present, q.Required)
	case "quorum_gained":
		return b.c.T(b.lang, "council.minutes.ev.quorum_gained", q.Present, q.Required)
	case "quorum_lost":
		return b.c.T(b.lang, "council.minutes.ev.quorum_lost", q.Present, q.Required)
	}
	return b.c.T(b.lang, "council.minutes.ev.session_closed", b.who(e.By), q.Present, q.Required)
}

// memberEvent is the chronology line of an event about one member.
func (b *builder) memberEvent(e Event) (string, bool) {
	n := e.Member.Name
	switch e.Type {
	case "arrival":
		return b.c.T(b.lang, "council.minutes.ev.arrival", n), true
	case "departure":
		return b.c.T(b.lang, "council.minutes.ev.departure", n), true
	case "reconnection":
		return b.c.T(b.lang, "council.minutes.ev.reconnection", n), true
	case "presence":
		if e.Present {
			return b.c.T(b.lang, "council.minutes.ev.present", n, b.reason(e.Reason)), true
		}
		return b.c.T(b.lang, "council.minutes.ev.absent", n, b.reason(e.Reason)), true
	case "confirmed":
		return b.c.T(b.lang, "council.minutes.ev.confirmed", n), true
	case "override":
		if e.Present {
			return b.c.T(b.lang, "council.minutes.ev.override_present", b.who(e.By), n, e.Note), true
		}
		return b.c.T(b.lang, "council.minutes.ev.override_absent", b.who(e.By), n, e.Note), true
	case "override_cleared":
		return b.c.T(b.lang, "council.minutes.ev.override_cleared", b.who(e.By), n), true
	case "floor_requested":
		return b.c.T(b.lang, "council.minutes.ev.floor_requested", n), true
	case "floor_withdrawn":
		return b.c.T(b.lang, "council.minutes.ev.floor_withdrawn", n), true
	case "floor_granted":
		return b.c.T(b.lang, "council.minutes.ev.floor_granted", n, b.who(e.By), b.limit(e.Limit)), true
	case "floor_revoked":
		return b.c.T(b.lang, "council.minutes.ev.floor_revoked", n, b.who(e.By)), true
	case "vote_cast":
		if e.By != "" { // a member in the chamber, whose vote the Secretary entered
			return b.c.T(b.lang, "council.minutes.ev.vote_cast_by", n, b.choice(e.Choice), e.Vote, b.who(e.By)), true
		}
		return b.c.T(b.lang, "council.minutes.ev.vote_cast", n, b.choice(e.Choice), e.Vote), true
	}
	return "", false
}

func (b *builder) signatures() {
	b.heading(2, b.c.T(b.lang, "council.minutes.h.signatures"))
	b.para(b.c.T(b.lang, "council.minutes.sign.president"), "", "____________________________")
	b.para(b.c.T(b.lang, "council.minutes.sign.secretary"), "", "____________________________")
}
