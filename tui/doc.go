// Package tui owns the terminal screens of `rocca install`: the preflight results, the questions
// (charm.land/huh forms), the summary to confirm, the progress of the steps, the mail step that
// signs an OAuth2 mailbox in with a device code after the install and tries its servers, and the
// quit confirmation, drawn with charm.land/bubbletea and lipgloss in the alternate screen; and the plain
// line prompts of --accessible for screen readers. The work itself is package installer's: this
// package only asks, shows and calls it. ASCII borders and marks on TERM=linux and similar
// consoles; NO_COLOR turns colours off.
//
// Only cmd/rocca imports it.
package tui
