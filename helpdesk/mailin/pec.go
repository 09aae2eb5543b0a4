package mailin

import (
	"slices"
	"strings"

	"github.com/emersion/go-message/textproto"
)

// pecFromHeader reads the PEC transport headers: X-Ricevuta marks a receipt, X-Trasporto an
// envelope (posta-certificata, or errore for an anomaly envelope).
func pecFromHeader(h textproto.Header) PECInfo {
	var info PECInfo
	if h.Has("X-Ricevuta") {
		info.Receipt = true
		info.Kind = pecKind(h.Get("X-Ricevuta"))
		info.RefMessageID = firstMsgID(h.Get("X-Riferimento-Message-Id"))
		return info
	}
	if h.Has("X-Trasporto") {
		info.Envelope = true
		info.Kind = pecKind(h.Get("X-Trasporto"))
	}
	return info
}

func pecKind(v string) string {
	v = strings.ToLower(cleanLine(v))
	if len(v) > 64 {
		v = v[:64]
	}
	return strings.ToValidUTF8(v, "")
}

// pec applies the PEC rules to a parsed message and returns the message to hand on:
//   - a receipt keeps its own content, gets PEC.Receipt, the certified message's ID in
//     RefMessageID, and is automatic (receipts never create tickets nor get answers);
//   - an envelope is replaced by its inner postacert.eml (the sender's own message: From,
//     Subject, body, attachments), with PEC.Envelope, the certified sender from daticert.xml
//     and the envelope's Message-ID. The caller keeps the raw envelope as evidence. Without a
//     postacert.eml the envelope itself is returned, with WarnPECNoContent.
func (p *mimeParser) pec(b *msgBuilder, h textproto.Header) *Message {
	info := pecFromHeader(h)
	if !info.Receipt && !info.Envelope {
		return b.m
	}
	if b.daticert != nil {
		dc, err := ParseDatiCert(b.daticert)
		if err != nil {
			b.warn(WarnDatiCert)
		} else {
			info.DatiCert = dc
		}
	}
	if info.DatiCert != nil {
		info.Sender = normalizeAddress(info.DatiCert.Mittente)
		if info.Receipt && info.RefMessageID == "" {
			info.RefMessageID = info.DatiCert.MsgID
		}
	}
	if info.Sender == "" {
		info.Sender = pecSender(b.m)
	}
	if info.Receipt {
		b.m.PEC = info
		b.m.Auto = receiptAuto(b.m.Auto, info.Kind)
		return b.m
	}
	info.EnvelopeMessageID = b.m.MessageID
	inner := b.postacert
	if inner == nil && len(b.m.Forwarded) == 1 {
		inner = b.m.Forwarded[0]
	}
	if inner == nil {
		b.warn(WarnPECNoContent)
		b.m.PEC = info
		return b.m
	}
	out := *inner
	out.PEC = info
	out.Warnings = append([]string(nil), inner.Warnings...)
	for _, w := range b.m.Warnings {
		if w != WarnNoMessageID && !slices.Contains(out.Warnings, w) {
			out.Warnings = append(out.Warnings, w)
		}
	}
	return &out
}

// pecSender finds the certified sender in an envelope From such as
// "Per conto di: mario@pec.it" <posta-certificata@pec.provider.it>.
func pecSender(m *Message) string {
	name := m.From.Name
	if i := strings.Index(strings.ToLower(name), "per conto di:"); i >= 0 {
		if a := bareAddr.FindString(name[i:]); a != "" {
			return normalizeAddress(a)
		}
	}
	return m.From.Address
}
