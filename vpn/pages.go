package vpn

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net"
	"net/http"
	"strconv"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/internal/web"
)

// fail answers err with web's error page (JSON under /api/).
func (s *Service) fail(w http.ResponseWriter, r *http.Request, err error) {
	s.render.Error(w, r, err)
}

// message is err as a sentence in the request's language, for forms that show it beside the
// fields. Internal errors are logged and shown as a generic text.
func (s *Service) message(r *http.Request, err error) string {
	var e *rocca.Error
	if errors.As(err, &e) && e.Key != "" && e.Code != rocca.EINTERNAL {
		return s.cat.T(web.Lang(r), e.Key, e.Args...)
	}
	s.logger.Error("request failed", "path", r.URL.Path, "err", err)
	return s.cat.T(web.Lang(r), "vpn.error.internal")
}

// formStatus is the status of a form page shown again because of err.
func formStatus(err error) int { return web.StatusOf(rocca.ErrorCodeOf(err)) }

// pathID parses a numeric path value.
func pathID(r *http.Request, name string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, rocca.Localized(rocca.ENOTFOUND, "vpn.error.bad_id", "no such item")
	}
	return id, nil
}

// requestIP is the client's address as the server saw it, for rate limiting.
func requestIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// deliveryData is the dot's Data of vpn_delivery.html: a configuration shown once.
type deliveryData struct {
	Name       string
	Config     string
	FileName   string
	QR         template.URL // PNG as a data: URL (the page is the only copy)
	Download   template.URL // the .conf as a data: URL for the download button
	PrivateKey bool
	Back       string // where "done" leads; "" on the anonymous link page
	Address    string
}

// deliveryPage prepares a configuration for the page: the QR code and the file are inlined, so
// nothing that holds the private key is ever served a second time.
func (s *Service) deliveryPage(d *Delivery, back string) (deliveryData, error) {
	png, err := QRPNG(d.Config)
	if err != nil {
		return deliveryData{}, err
	}
	return deliveryData{
		Name:       d.Peer.Name,
		Config:     d.Config,
		FileName:   d.FileName,
		QR:         template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png)),
		Download:   template.URL("data:application/octet-stream;base64," + base64.StdEncoding.EncodeToString([]byte(d.Config))),
		PrivateKey: d.PrivateKey,
		Back:       back,
		Address:    d.Peer.Address.String(),
	}, nil
}

// showDelivery renders a configuration once, with status.
func (s *Service) showDelivery(w http.ResponseWriter, r *http.Request, status int, d *Delivery, back string) {
	data, err := s.deliveryPage(d, back)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render.Render(w, r, status, "vpn_delivery", data)
}

// decodeJSON reads an API request body into v.
func decodeJSON(r *http.Request, v any) error {
	if r.Body == nil {
		return nil
	}
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		return rocca.Localized(rocca.EINVALID, "vpn.error.bad_json", fmt.Sprintf("the request body is not valid JSON: %v", err), err.Error())
	}
	return nil
}

// formatBytes writes a byte count the way people read it.
func formatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTP"[exp])
}

// peerRow is a device as the tables show it.
type peerRow struct {
	*Peer
	Rx, Tx string
}

func peerRows(peers []*Peer) []peerRow {
	rows := make([]peerRow, len(peers))
	for i, p := range peers {
		rows[i] = peerRow{Peer: p, Rx: formatBytes(p.RxBytes), Tx: formatBytes(p.TxBytes)}
	}
	return rows
}

// expiryChoice turns the form's lifetime in days into a time; 0 days means never.
func (s *Service) expiryChoice(r *http.Request) (int, error) {
	v := r.PostForm.Get("days")
	if v == "" {
		return 0, nil
	}
	days, err := strconv.Atoi(v)
	if err != nil || days < 0 || days > 3650 {
		return 0, rocca.Localized(rocca.EINVALID, "vpn.error.default_days", "the lifetime of new devices must be from 0 (none) to 3650 days")
	}
	return days, nil
}
