package mailin

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"strings"
	"time"
)

// DatiCert is the certification data of a PEC envelope or receipt (daticert.xml), as defined by
// the Italian technical rules for certified mail (DM 2 novembre 2005).
type DatiCert struct {
	Tipo           string // posta-certificata, accettazione, avvenuta-consegna, errore-consegna…
	Errore         string // nessuno, no-dest, no-dominio, virus, altro
	Mittente       string
	Destinatari    []Destinatario
	Risposte       string // the reply-to address
	Oggetto        string
	Gestore        string    // gestore-emittente, the provider that issued it
	Data           time.Time // giorno + ora + zona; zero when unreadable
	Identificativo string    // the PEC identifier of the message
	MsgID          string    // the original Message-ID, without brackets
	Ricevuta       string    // receipt type: completa, breve, sintetica
	Consegna       string    // the mailbox it was delivered to (avvenuta-consegna)
	ErroreEsteso   string
}

// Destinatario is one recipient in daticert.xml; Tipo is "certificato" or "esterno".
type Destinatario struct {
	Address string
	Tipo    string
}

// maxDatiCert bounds daticert.xml: real ones are about 1 KB.
const maxDatiCert = 64 << 10

// ErrDatiCertTooLarge is returned for a daticert.xml over 64 KiB.
var ErrDatiCertTooLarge = errors.New("daticert.xml too large")

type xmlPostacert struct {
	XMLName      xml.Name `xml:"postacert"`
	Tipo         string   `xml:"tipo,attr"`
	Errore       string   `xml:"errore,attr"`
	Intestazione struct {
		Mittente    string `xml:"mittente"`
		Destinatari []struct {
			Tipo    string `xml:"tipo,attr"`
			Address string `xml:",chardata"`
		} `xml:"destinatari"`
		Risposte string `xml:"risposte"`
		Oggetto  string `xml:"oggetto"`
	} `xml:"intestazione"`
	Dati struct {
		Gestore string `xml:"gestore-emittente"`
		Data    struct {
			Zona   string `xml:"zona,attr"`
			Giorno string `xml:"giorno"`
			Ora    string `xml:"ora"`
		} `xml:"data"`
		Identificativo string `xml:"identificativo"`
		MsgID          string `xml:"msgid"`
		Ricevuta       struct {
			Tipo string `xml:"tipo,attr"`
		} `xml:"ricevuta"`
		Consegna     string `xml:"consegna"`
		ErroreEsteso string `xml:"errore-esteso"`
	} `xml:"dati"`
}

// ParseDatiCert parses a daticert.xml. It refuses documents over 64 KiB; encoding/xml expands no
// external or custom entities, and any declared encoding goes through our charset decoding.
func ParseDatiCert(b []byte) (*DatiCert, error) {
	if len(b) > maxDatiCert {
		return nil, ErrDatiCertTooLarge
	}
	var x xmlPostacert
	d := xml.NewDecoder(bytes.NewReader(b))
	d.CharsetReader = charsetReader
	if err := d.Decode(&x); err != nil {
		return nil, fmt.Errorf("daticert.xml: %w", err)
	}
	dc := &DatiCert{
		Tipo:           datiField(x.Tipo),
		Errore:         datiField(x.Errore),
		Mittente:       normalizeAddress(datiField(x.Intestazione.Mittente)),
		Risposte:       normalizeAddress(datiField(x.Intestazione.Risposte)),
		Oggetto:        datiField(x.Intestazione.Oggetto),
		Gestore:        datiField(x.Dati.Gestore),
		Identificativo: datiField(x.Dati.Identificativo),
		MsgID:          firstMsgID(x.Dati.MsgID),
		Ricevuta:       datiField(x.Dati.Ricevuta.Tipo),
		Consegna:       normalizeAddress(datiField(x.Dati.Consegna)),
		ErroreEsteso:   datiField(x.Dati.ErroreEsteso),
		Data:           datiCertTime(x.Dati.Data.Giorno, x.Dati.Data.Ora, x.Dati.Data.Zona),
	}
	if dc.MsgID == "" {
		dc.MsgID = datiField(x.Dati.MsgID)
	}
	for _, r := range x.Intestazione.Destinatari {
		if len(dc.Destinatari) >= maxAddresses {
			break
		}
		if a := normalizeAddress(datiField(r.Address)); a != "" {
			dc.Destinatari = append(dc.Destinatari, Destinatario{Address: a, Tipo: datiField(r.Tipo)})
		}
	}
	return dc, nil
}

func datiField(s string) string {
	s = cleanLine(s)
	if len(s) > maxIDLen {
		s = strings.ToValidUTF8(s[:maxIDLen], "")
	}
	return s
}

// datiCertTime reads giorno "12/03/2024", ora "10:15:42" and zona "+0100".
func datiCertTime(giorno, ora, zona string) time.Time {
	giorno, ora, zona = strings.TrimSpace(giorno), strings.TrimSpace(ora), strings.TrimSpace(zona)
	if zona == "" {
		zona = "+0000"
	}
	t, err := time.Parse("02/01/2006 15:04:05 -0700", giorno+" "+ora+" "+zona)
	if err != nil {
		return time.Time{}
	}
	return t
}
