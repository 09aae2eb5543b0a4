package council

import (
	"github.com/rocca-pa/rocca"
)

// Member is a seat of the assembly. CountsForQuorum is false for a member who is not counted in
// the numero legale (the mayor, in some regulations); such a member still votes.
type Member struct {
	ID              string `json:"id"` // stable within the session (the caller's participant or user id)
	Name            string `json:"name"`
	Seat            int    `json:"seat"`
	CountsForQuorum bool   `json:"counts_for_quorum"`
}

// QuorumKind is how the quorum is computed from the members assigned (those counted).
type QuorumKind string

// The quorum rules.
const (
	QuorumMajority QuorumKind = "majority"  // half of the members assigned, plus one
	QuorumOneThird QuorumKind = "one_third" // one third of the members assigned, rounded up
	QuorumCustom   QuorumKind = "custom"    // a fixed number set by the regulation
)

// QuorumRule is the session's numero legale.
type QuorumRule struct {
	Kind QuorumKind `json:"kind"`
	N    int        `json:"n,omitempty"` // QuorumCustom only
}

// Required is how many counted members must be present, out of assigned.
func (q QuorumRule) Required(assigned int) int {
	switch q.Kind {
	case QuorumOneThird:
		return (assigned + 2) / 3
	case QuorumCustom:
		return q.N
	default:
		return assigned/2 + 1
	}
}

// Validate checks the rule against the number of members assigned.
func (q QuorumRule) Validate(assigned int) error {
	switch q.Kind {
	case QuorumMajority, QuorumOneThird:
		return nil
	case QuorumCustom:
		if q.N < 1 || q.N > assigned {
			return rocca.Localized(rocca.EINVALID, "council.error.quorum_custom",
				"the quorum must be between 1 and the number of members assigned", assigned)
		}
		return nil
	}
	return rocca.Localized(rocca.EINVALID, "council.error.quorum_kind", "unknown quorum rule")
}

// validateMembers checks that ids and seats are set and unique.
func validateMembers(ms []Member) error {
	if len(ms) == 0 {
		return rocca.Localized(rocca.EINVALID, "council.error.no_members", "the assembly has no members")
	}
	ids, seats := map[string]bool{}, map[int]bool{}
	for _, m := range ms {
		if m.ID == "" || m.Name == "" || ids[m.ID] || seats[m.Seat] {
			return rocca.Localized(rocca.EINVALID, "council.error.members",
				"every member needs an id, a name and a seat of their own")
		}
		ids[m.ID], seats[m.Seat] = true, true
	}
	return nil
}
