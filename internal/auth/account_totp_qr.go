package auth

import (
	"net/http"
	"strconv"

	"rsc.io/qr"

	"github.com/rocca-pa/rocca"
)

// accountTOTPQR serves the QR code of the pending enrolment's otpauth:// URI as a PNG, generated
// here so the secret never goes to a third-party service.
func (s *Service) accountTOTPQR(w http.ResponseWriter, r *http.Request) {
	u := rocca.UserFromContext(r.Context())
	_, uri, err := s.PendingTOTP(r.Context(), u.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if uri == "" {
		s.fail(w, r, rocca.Localized(rocca.ENOTFOUND, "auth.error.totp_not_started", "start the enrolment first"))
		return
	}
	code, err := qr.Encode(uri, qr.M)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	code.Scale = 6
	png := code.PNG()
	h := w.Header()
	h.Set("Content-Type", "image/png")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(len(png)))
	w.Write(png)
}
