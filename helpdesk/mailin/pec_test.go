package mailin

import (
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

const sampleDatiCert = `<?xml version="1.0" encoding="UTF-8"?>
<postacert tipo="avvenuta-consegna" errore="nessuno">
  <intestazione>
    <mittente>Protocollo@PEC.Comune.Example.it</mittente>
    <destinatari tipo="certificato">avv.bruni@pec.example.it</destinatari>
    <destinatari tipo="esterno">studio@example.it</destinatari>
    <risposte>protocollo@pec.comune.example.it</risposte>
    <oggetto>Risposta all'istanza</oggetto>
  </intestazione>
  <dati>
    <gestore-emittente>Provider PEC S.p.A.</gestore-emittente>
    <data zona="+0100">
      <giorno>13/03/2024</giorno>
      <ora>15:00:05</ora>
    </data>
    <identificativo>opec-1234@pec.provider.example.it</identificativo>
    <msgid>&lt;rocca.18.a@rocca.comune.example.it&gt;</msgid>
    <ricevuta tipo="completa" />
    <consegna>avv.bruni@pec.example.it</consegna>
  </dati>
</postacert>`

func TestParseDatiCert(t *testing.T) {
	dc, err := ParseDatiCert([]byte(sampleDatiCert))
	if err != nil {
		t.Fatal(err)
	}
	want := time.Date(2024, 3, 13, 15, 0, 5, 0, time.FixedZone("", 3600))
	switch {
	case dc.Tipo != "avvenuta-consegna", dc.Errore != "nessuno":
		t.Errorf("tipo/errore = %q/%q", dc.Tipo, dc.Errore)
	case dc.Mittente != "Protocollo@pec.comune.example.it":
		t.Errorf("mittente = %q", dc.Mittente)
	case len(dc.Destinatari) != 2 || dc.Destinatari[1] != (Destinatario{Address: "studio@example.it", Tipo: "esterno"}):
		t.Errorf("destinatari = %+v", dc.Destinatari)
	case dc.MsgID != "rocca.18.a@rocca.comune.example.it":
		t.Errorf("msgid = %q", dc.MsgID)
	case dc.Ricevuta != "completa", dc.Consegna != "avv.bruni@pec.example.it":
		t.Errorf("ricevuta/consegna = %q/%q", dc.Ricevuta, dc.Consegna)
	case !dc.Data.Equal(want):
		t.Errorf("data = %v, want %v", dc.Data, want)
	case dc.Oggetto != "Risposta all'istanza", dc.Gestore != "Provider PEC S.p.A.", dc.Identificativo != "opec-1234@pec.provider.example.it":
		t.Errorf("oggetto/gestore/identificativo = %q/%q/%q", dc.Oggetto, dc.Gestore, dc.Identificativo)
	}
}

func TestParseDatiCertLatin1(t *testing.T) {
	doc := "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><postacert tipo=\"posta-certificata\">" +
		"<intestazione><oggetto>Citt\xe0 \x80</oggetto></intestazione></postacert>"
	dc, err := ParseDatiCert([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if dc.Oggetto != "Città €" {
		t.Errorf("oggetto = %q", dc.Oggetto)
	}
}

func TestParseDatiCertRejects(t *testing.T) {
	big := "<postacert>" + strings.Repeat("<x/>", maxDatiCert) + "</postacert>"
	if _, err := ParseDatiCert([]byte(big)); !errors.Is(err, ErrDatiCertTooLarge) {
		t.Errorf("oversized: %v", err)
	}
	for name, doc := range map[string]string{
		"garbage":         "not xml",
		"wrong root":      "<html><body/></html>",
		"unknown entity":  `<postacert><intestazione><oggetto>&bomb;</oggetto></intestazione></postacert>`,
		"external entity": `<?xml version="1.0"?><!DOCTYPE p [<!ENTITY x SYSTEM "file:///etc/passwd">]><postacert><intestazione><oggetto>&x;</oggetto></intestazione></postacert>`,
		"truncated":       `<postacert><intestazione>`,
	} {
		if dc, err := ParseDatiCert([]byte(doc)); err == nil {
			t.Errorf("%s: accepted: %+v", name, dc)
		}
	}
}

func TestPECEnvelopeWithoutPostacert(t *testing.T) {
	raw := "From: \"Per conto di: mario@pec.example.it\" <posta-certificata@pec.provider.it>\n" +
		"Subject: POSTA CERTIFICATA: prova\nMessage-ID: <env@pec.provider.it>\nX-Trasporto: posta-certificata\n\nsolo busta\n"
	m, err := Parse([]byte(raw), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !m.PEC.Envelope || m.PEC.Sender != "mario@pec.example.it" || !slices.Contains(m.Warnings, WarnPECNoContent) {
		t.Errorf("PEC = %+v, warnings %v", m.PEC, m.Warnings)
	}
	if m.MessageID != "env@pec.provider.it" || m.Auto.Auto {
		t.Errorf("envelope kept wrong identity or became automatic: %q %+v", m.MessageID, m.Auto)
	}
}

func TestPECReceiptWithBrokenDatiCert(t *testing.T) {
	raw := "From: posta-certificata@pec.provider.it\nSubject: ACCETTAZIONE: x\nX-Ricevuta: accettazione\n" +
		"X-Riferimento-Message-ID: <ours@rocca.example.it>\nContent-Type: multipart/mixed; boundary=b\n\n" +
		"--b\n\nRicevuta\n--b\nContent-Type: application/xml; name=daticert.xml\n\n<postacert><broken\n--b--\n"
	m, err := Parse([]byte(raw), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !m.PEC.Receipt || m.PEC.RefMessageID != "ours@rocca.example.it" || !m.Auto.Auto ||
		m.Auto.Reason != ReasonPECReceipt || !slices.Contains(m.Warnings, WarnDatiCert) || m.PEC.DatiCert != nil {
		t.Errorf("PEC = %+v, auto %+v, warnings %v", m.PEC, m.Auto, m.Warnings)
	}
}

// The envelope's inner message takes the place of the envelope, and the envelope's own
// attachments (daticert.xml, smime.p7s) stay with the raw evidence, not with the ticket.
func TestPECEnvelopeContent(t *testing.T) {
	raw, err := os.ReadFile("testdata/corpus/032-pec-envelope.eml")
	if err != nil {
		t.Fatal(err)
	}
	m, err := Parse(raw, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range m.Attachments {
		if a.Filename == "daticert.xml" || a.Filename == "smime.p7s" || a.Filename == "postacert.eml" {
			t.Errorf("envelope attachment %q leaked into the inner message", a.Filename)
		}
	}
	if m.PEC.DatiCert == nil || m.PEC.DatiCert.Tipo != "posta-certificata" || m.Subject != "Istanza di accesso agli atti - pratica edilizia 45/2023" {
		t.Errorf("PEC = %+v subject %q", m.PEC, m.Subject)
	}
}
