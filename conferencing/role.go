package conferencing

// Role is what a participant may do in one meeting. It is a property of the participant, not of
// the user account: the same councillor is a member in one meeting and the chair of another.
type Role string

// The roles. Council sessions (issue 5) use chair, secretary, member and public; plain meetings
// use host, cohost, member and guest.
const (
	RoleHost      Role = "host"      // runs the meeting: every control, including end and make host
	RoleCohost    Role = "cohost"    // moderates (lobby, mute, remove, lock) but cannot end or promote
	RoleMember    Role = "member"    // a signed-in user of the municipality
	RoleGuest     Role = "guest"     // joined through the link with a name; waits in the lobby
	RoleChair     Role = "chair"     // council president: the host's powers (plus the council console)
	RoleSecretary Role = "secretary" // council secretary: moderates the lobby and the record
	RolePublic    Role = "public"    // watches and listens only
)

// Permission is one thing a role allows.
type Permission uint

// The permissions.
const (
	PermPublish   Permission = 1 << iota // send audio, video
	PermScreen                           // share the screen
	PermChat                             // write in the chat
	PermSkipLobby                        // enter without being admitted
	PermAdmit                            // admit or deny people in the lobby
	PermModerate                         // mute others, remove, lock, allow unmute
	PermEnd                              // end the meeting for everybody
	PermPromote                          // change others' roles (make host)
)

var rolePerms = map[Role]Permission{
	RoleHost:      PermPublish | PermScreen | PermChat | PermSkipLobby | PermAdmit | PermModerate | PermEnd | PermPromote,
	RoleChair:     PermPublish | PermScreen | PermChat | PermSkipLobby | PermAdmit | PermModerate | PermEnd | PermPromote,
	RoleCohost:    PermPublish | PermScreen | PermChat | PermSkipLobby | PermAdmit | PermModerate,
	RoleSecretary: PermPublish | PermScreen | PermChat | PermSkipLobby | PermAdmit,
	RoleMember:    PermPublish | PermScreen | PermChat | PermSkipLobby,
	RoleGuest:     PermPublish | PermScreen | PermChat,
	RolePublic:    0,
}

// Valid reports whether r is a known role.
func (r Role) Valid() bool { _, ok := rolePerms[r]; return ok }

// Can reports whether r allows p.
func (r Role) Can(p Permission) bool { return rolePerms[r]&p == p }

// assignable are the roles a host may give with set_role in a plain meeting.
func assignable(r Role) bool { return r == RoleHost || r == RoleCohost || r == RoleMember }
