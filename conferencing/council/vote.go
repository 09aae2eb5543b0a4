package council

import (
	"crypto/rand"
	"math/big"
	"slices"

	"github.com/rocca-pa/rocca"
)

// Choice is a ballot.
type Choice string

// The choices.
const (
	Favorevole Choice = "favorevole"
	Contrario  Choice = "contrario"
	Astenuto   Choice = "astenuto"
)

// Valid reports whether c is one of the three choices.
func (c Choice) Valid() bool { return c == Favorevole || c == Contrario || c == Astenuto }

// Totals counts the ballots.
type Totals struct {
	Favorevole int `json:"favorevole"`
	Contrario  int `json:"contrario"`
	Astenuto   int `json:"astenuto"`
}

func (t *Totals) add(c Choice) {
	switch c {
	case Favorevole:
		t.Favorevole++
	case Contrario:
		t.Contrario++
	case Astenuto:
		t.Astenuto++
	}
}

// vote is the open vote. For a secret vote, ballots and voted are never linked: ballots is a
// bag of choices, voted a set of members, and neither remembers the order of casting across the
// other (ballots are shuffled before they leave memory, voters are listed by seat).
type vote struct {
	n        int
	item     string
	text     string
	secret   bool
	eligible map[string]bool
	voted    map[string]bool
	names    map[string]Choice // open votes only
	ballots  []Choice          // secret votes only
}

// VoteState is the open vote as shown to everybody: no ballots, only how many were cast.
type VoteState struct {
	N        int    `json:"n"`
	Item     string `json:"item"`
	Text     string `json:"text"`
	Secret   bool   `json:"secret"`
	Eligible int    `json:"eligible"`
	Cast     int    `json:"cast"`
}

func (v *vote) stateLocked() VoteState {
	return VoteState{N: v.n, Item: v.item, Text: v.text, Secret: v.secret, Eligible: len(v.eligible), Cast: len(v.voted)}
}

// Outcome is the result of a closed vote.
type Outcome struct {
	N        int                 `json:"n"`
	Item     string              `json:"item"`
	Secret   bool                `json:"secret"`
	Totals   Totals              `json:"totals"`
	Eligible int                 `json:"eligible"`
	Voters   []Member            `json:"voters"`            // who voted, by seat
	ByName   map[Choice][]Member `json:"by_name,omitempty"` // open votes: each choice's voters, by seat
	Ballots  []Choice            `json:"ballots,omitempty"` // secret votes: the ballots in random order
}

// OpenVote opens a vote on an agenda item. Only the members present now may vote. There is one
// vote at a time, and none while the session is suspended or without quorum.
func (s *Session) OpenVote(item, text string, secret bool) (VoteState, error) {
	var st VoteState
	err := s.do(func() error {
		switch {
		case s.vote != nil:
			return rocca.Localized(rocca.ECONFLICT, "council.error.vote_open", "a vote is already open")
		case s.suspended:
			return rocca.Localized(rocca.ECONFLICT, "council.error.suspended", "the session is suspended")
		case !s.quorum:
			return rocca.Localized(rocca.ECONFLICT, "council.error.no_quorum", "there is no quorum")
		case item == "" || text == "":
			return rocca.Localized(rocca.EINVALID, "council.error.vote_text", "a vote needs an agenda item and its text")
		}
		s.votes++
		v := &vote{n: s.votes, item: item, text: text, secret: secret,
			eligible: map[string]bool{}, voted: map[string]bool{}, names: map[string]Choice{}}
		var eligible []Member
		for _, p := range s.members {
			if p.present {
				v.eligible[p.ID] = true
				eligible = append(eligible, p.Member)
			}
		}
		s.vote = v
		st = v.stateLocked()
		return s.appendLocked("vote_opened", map[string]any{"vote": v.n, "item": item, "text": text,
			"secret": secret, "eligible": eligible})
	})
	return st, err
}

// Cast records member id's ballot. An open vote is recorded by name at once; a secret ballot
// only joins the bag, and the record learns nothing until the vote closes.
func (s *Session) Cast(id string, c Choice) error {
	return s.do(func() error { return s.castLocked(id, c, "") })
}

// CastFor is the Secretary (by) entering the ballot of member id, who is in the chamber: marked
// present by the Secretary's override (a hybrid session). An open vote is recorded by name with
// by; a secret ballot joins the bag exactly as Cast's does, and nothing records who entered it.
// A member who is not marked present in the chamber votes from their own device, or not at all.
func (s *Session) CastFor(id string, c Choice, by string) error {
	return s.do(func() error {
		if by == "" {
			return rocca.Localized(rocca.EINVALID, "council.error.cast_by", "say who enters the ballot")
		}
		return s.castLocked(id, c, by)
	})
}

// castLocked checks and records a ballot: the member's own (by == "") or entered for them.
func (s *Session) castLocked(id string, c Choice, by string) error {
	v := s.vote
	if v == nil {
		return rocca.Localized(rocca.ECONFLICT, "council.error.vote_closed", "the vote is closed")
	}
	if !c.Valid() {
		return rocca.Localized(rocca.EINVALID, "council.error.choice", "choose favorevole, contrario or astenuto")
	}
	p, err := s.memberLocked(id)
	if err != nil {
		return err
	}
	proxy := by != ""
	if proxy {
		if err := inChamber(p); err != nil {
			return err
		}
	}
	switch {
	case !v.eligible[id] && proxy:
		return rocca.Localized(rocca.EFORBIDDEN, "council.error.member_not_eligible",
			"the member was not present when the vote opened: they may not vote", p.Name)
	case !v.eligible[id]:
		return rocca.Localized(rocca.EFORBIDDEN, "council.error.not_eligible",
			"only the members present when the vote opened may vote")
	case v.voted[id] && proxy:
		return rocca.Localized(rocca.ECONFLICT, "council.error.member_voted", "the member has already voted", p.Name)
	case v.voted[id]:
		return rocca.Localized(rocca.ECONFLICT, "council.error.already_voted", "you have already voted")
	}
	v.voted[id] = true
	if v.secret {
		// The same for every ballot, whoever entered it: nothing is written now.
		v.ballots = append(v.ballots, c)
		return nil
	}
	v.names[id] = c
	data := with(who(p), "vote", v.n, "choice", c)
	if proxy {
		data["by"] = by
	}
	return s.appendLocked("vote_cast", data)
}

// inChamber refuses a ballot entered for a member whom the Secretary has not marked present:
// connected (and not marked absent), they vote from their own device; otherwise they are not in
// the chamber.
func inChamber(p *presence) error {
	switch {
	case p.override != nil && p.override.present:
		return nil
	case p.override == nil && p.connected:
		return rocca.Localized(rocca.ECONFLICT, "council.error.own_device",
			"the member is connected remotely: they vote from their own device", p.Name)
	}
	return rocca.Localized(rocca.ECONFLICT, "council.error.not_in_chamber",
		"the member is not marked present in the chamber", p.Name)
}

// CloseVote closes the open vote and records its result. For a secret vote the record gets, in
// one batch at close: the list of voters (by seat) and the totals with the ballots shuffled.
func (s *Session) CloseVote() (Outcome, error) {
	var out Outcome
	err := s.do(func() error {
		var err error
		out, err = s.closeVoteLocked()
		return err
	})
	return out, err
}

func (s *Session) closeVoteLocked() (Outcome, error) {
	v := s.vote
	if v == nil {
		return Outcome{}, rocca.Localized(rocca.ECONFLICT, "council.error.vote_closed", "the vote is closed")
	}
	s.vote = nil
	out := Outcome{N: v.n, Item: v.item, Secret: v.secret, Eligible: len(v.eligible), Voters: []Member{}}
	for _, p := range s.members { // by seat, whatever the order of casting
		if v.voted[p.ID] {
			out.Voters = append(out.Voters, p.Member)
		}
	}
	if v.secret {
		out.Ballots = slices.Clone(v.ballots)
		if err := shuffle(out.Ballots); err != nil {
			return Outcome{}, err
		}
		v.ballots = nil
		for _, c := range out.Ballots {
			out.Totals.add(c)
		}
		if err := s.appendLocked("vote_voters", map[string]any{"vote": v.n, "voters": out.Voters}); err != nil {
			return Outcome{}, err
		}
		return out, s.appendLocked("vote_closed", map[string]any{"vote": v.n, "item": v.item, "secret": true,
			"eligible": out.Eligible, "totals": out.Totals, "ballots": out.Ballots})
	}
	out.ByName = map[Choice][]Member{Favorevole: {}, Contrario: {}, Astenuto: {}}
	for _, p := range s.members {
		if c, ok := v.names[p.ID]; ok {
			out.ByName[c] = append(out.ByName[c], p.Member)
			out.Totals.add(c)
		}
	}
	return out, s.appendLocked("vote_closed", map[string]any{"vote": v.n, "item": v.item, "secret": false,
		"eligible": out.Eligible, "totals": out.Totals, "by_name": out.ByName, "voters": out.Voters})
}

// shuffle permutes cs uniformly with crypto/rand (Fisher–Yates), so that the order of the
// ballots says nothing about the order in which they were cast.
func shuffle(cs []Choice) error {
	for i := len(cs) - 1; i > 0; i-- {
		j, err := rand.Int(rand.Reader, big.NewInt(int64(i+1)))
		if err != nil {
			return err
		}
		k := int(j.Int64())
		cs[i], cs[k] = cs[k], cs[i]
	}
	return nil
}
