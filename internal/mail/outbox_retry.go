package mail

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/rocca-pa/rocca"
)

// outboxRetry puts a failed or waiting message back in the queue for an attempt now, then returns
// to the list the admin came from.
func (o *Outbox) outboxRetry(w http.ResponseWriter, r *http.Request) {
	if !o.pagesReady(w) {
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		o.pages.Error(w, r, rocca.Localized(rocca.ENOTFOUND, "mail.error.not_found", "no such outbox message", r.PathValue("id")))
		return
	}
	if err := o.Retry(r.Context(), id); err != nil {
		o.pages.Error(w, r, err)
		return
	}
	q := url.Values{"retried": {strconv.FormatInt(id, 10)}}
	if state := r.PostFormValue("state"); slices.Contains(States(), state) {
		q.Set("state", state)
	}
	http.Redirect(w, r, "/admin/outbox?"+q.Encode(), http.StatusSeeOther)
}
