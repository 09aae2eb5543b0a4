package mail

import (
	"net/http"
	"slices"
	"strconv"
)

// outboxPageSize is how many messages the admin page lists.
const outboxPageSize = 200

// outboxTab is one state filter above the list.
type outboxTab struct {
	State    string // "" for all
	LabelKey string
	Count    int
	Active   bool
}

// outboxRow is one message as the page shows it.
type outboxRow struct {
	Item
	StateKey  string
	Badge     string
	Retryable bool
}

// outboxData is the dot's Data of admin_outbox.html.
type outboxData struct {
	State     string
	Tabs      []outboxTab
	Items     []outboxRow
	Retried   int64 // the message just put back in the queue, for the confirmation
	Limit     int
	Truncated bool
}

// stateLabels are the catalog keys of the states.
var stateLabels = map[string]string{
	StateQueued:  "mail.state.queued",
	StateSending: "mail.state.sending",
	StateSent:    "mail.state.sent",
	StateFailed:  "mail.state.failed",
}

var stateBadges = map[string]string{
	StateQueued:  "badge-warning",
	StateSending: "badge-primary",
	StateSent:    "badge-success",
	StateFailed:  "badge-danger",
}

// outboxList shows the outbox, newest first, filtered by ?state=.
func (o *Outbox) outboxList(w http.ResponseWriter, r *http.Request) {
	if !o.pagesReady(w) {
		return
	}
	state := r.URL.Query().Get("state")
	if !slices.Contains(States(), state) {
		state = ""
	}
	stats, err := o.Stats(r.Context())
	if err != nil {
		o.pages.Error(w, r, err)
		return
	}
	items, err := o.Items(r.Context(), state, outboxPageSize)
	if err != nil {
		o.pages.Error(w, r, err)
		return
	}
	d := outboxData{State: state, Limit: outboxPageSize, Truncated: len(items) == outboxPageSize}
	d.Retried, _ = strconv.ParseInt(r.URL.Query().Get("retried"), 10, 64)
	total := 0
	for _, s := range States() {
		total += stats[s]
	}
	d.Tabs = append(d.Tabs, outboxTab{State: "", LabelKey: "mail.outbox.all", Count: total, Active: state == ""})
	for _, s := range States() {
		d.Tabs = append(d.Tabs, outboxTab{State: s, LabelKey: stateLabels[s], Count: stats[s], Active: state == s})
	}
	for _, it := range items {
		d.Items = append(d.Items, outboxRow{
			Item:      it,
			StateKey:  stateLabels[it.State],
			Badge:     stateBadges[it.State],
			Retryable: it.State == StateFailed || it.State == StateQueued,
		})
	}
	o.pages.Render(w, r, http.StatusOK, "admin_outbox", d)
}
