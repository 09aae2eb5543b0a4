package mailin

// ThreadKeys returns the Message-IDs under which the helpdesk looks for the conversation a
// message belongs to, most specific first: In-Reply-To, then References from the newest to the
// oldest, without duplicates or the message's own ID. When none is known to the helpdesk it falls
// back to m.TicketTag; the subject text alone never threads a message.
func ThreadKeys(m *Message) []string {
	if m == nil {
		return nil
	}
	keys := make([]string, 0, 1+len(m.References))
	seen := map[string]bool{m.MessageID: true, "": true}
	add := func(id string) {
		if !seen[id] {
			seen[id] = true
			keys = append(keys, id)
		}
	}
	add(m.InReplyTo)
	for i := len(m.References) - 1; i >= 0; i-- {
		add(m.References[i])
	}
	return keys
}
