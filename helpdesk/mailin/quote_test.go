package mailin

import (
	"strings"
	"testing"
)

func TestStripQuotes(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain text stays", "Buongiorno,\nla stampante non va.\n\nMario", "Buongiorno,\nla stampante non va.\n\nMario"},
		{"quoted lines", "Risolto, grazie.\n\n> vecchio testo\n> altro", "Risolto, grazie."},
		{"thunderbird italian", "Va bene.\n\nIl 12/03/2024 09:20, Helpdesk ha scritto:\n> Gentile Mario", "Va bene."},
		{"il giorno one line", "Ok.\n\nIl giorno mar 12 mar 2024 alle ore 10:15 Mario Rossi <mario@x.it> ha scritto:\n> testo", "Ok."},
		{"il giorno two lines", "Ok.\n\nIl giorno mar 12 mar 2024 alle ore 10:15 Mario Rossi <\nmario@x.it> ha scritto:\n\n> testo", "Ok."},
		{"il giorno three lines", "Ok.\n\nIl giorno mar 12 mar 2024 alle ore\n10:15 Mario Rossi <mario@x.it>\nha scritto:\n> testo", "Ok."},
		{"attribution with unquoted history", "Ok.\n\nIl 12/03/2024 10:15, Mario ha scritto:\n\nBuongiorno, testo vecchio", "Ok."},
		{"english", "Thanks.\n\nOn Tue, Mar 12, 2024 at 10:15 AM Mario <m@x.it> wrote:\n> old", "Thanks."},
		{"english wrapped", "Thanks.\n\nOn Tue, Mar 12, 2024 at 10:15 AM Mario <m@x.it>\nwrote:\n\n> old", "Thanks."},
		{"german", "Danke.\n\nAm 12.03.2024 um 10:15 schrieb Hans Huber:\n> alt", "Danke."},
		{"messaggio originale", "Grazie.\n\n-----Messaggio originale-----\nDa: Mario\nInviato: oggi\nA: Helpdesk\nOggetto: Stampante\n\nvecchio", "Grazie."},
		{"original message", "Thanks.\n\n-----Original Message-----\nFrom: Mario\nSent: today\nTo: Helpdesk\nSubject: Printer\n\nold", "Thanks."},
		{"libero four dashes", "Grazie.\n\n----Messaggio originale----\nDa: x@y.it\nData: 12/03/2024\nA: z@y.it\nOgg: oggetto\n\nvecchio", "Grazie."},
		{"outlook italian block", "Procedete.\n\nAnna\n\nDa: Helpdesk <helpdesk@x.it>\nInviato: martedì 12 marzo 2024 15:40\nA: Anna <anna@x.it>\nCc: Capo <capo@x.it>\nOggetto: [#4] Preventivo\n\nGentile Anna", "Procedete.\n\nAnna"},
		{"outlook with data", "Procedete.\n\nDa: Helpdesk <helpdesk@x.it>\nData: martedì 12 marzo 2024 15:40\nA: Anna\nOggetto: Preventivo\n\nvecchio", "Procedete."},
		{"outlook english", "Go ahead.\n\nFrom: Helpdesk <helpdesk@x.it>\nSent: Tuesday, March 12, 2024 3:40 PM\nTo: Anna\nSubject: Quote\n\nold", "Go ahead."},
		{"outlook bold stars", "Ok.\n\n*Da:* Helpdesk\n*Inviato:* oggi\n*A:* Anna\n*Oggetto:* Preventivo\n\nvecchio", "Ok."},
		{"underscores", "Ok.\n\n________________________________\nDa: Helpdesk\nvecchio", "Ok."},
		{"short underscores are a signature", "Ok.\n__________\nMario Rossi", "Ok.\n__________\nMario Rossi"},
		{"signature kept", "Ok.\n\n-- \nMario Rossi\nUfficio Anagrafe\n\n> vecchio", "Ok.\n\n-- \nMario Rossi\nUfficio Anagrafe"},
		{"interleaved", "Il 13/03/2024 16:00, Helpdesk ha scritto:\n> Serve la VPN?\n\nSì.\n\n> Quale ufficio?\n\nTributi.", "Sì.\n\nTributi."},
		{"bottom posting", "On Mon, Mario wrote:\n> domanda\n\nrisposta sotto", "risposta sotto"},
		{"all quoted returns original", "> solo citazione\n> altro", "> solo citazione\n> altro"},
		{"only attribution and quote", "Il 12/03/2024, Mario ha scritto:\n> testo", "Il 12/03/2024, Mario ha scritto:\n> testo"},
		{"generic attribution needs quotes", "Mario ha scritto:\nnon è una citazione", "Mario ha scritto:\nnon è una citazione"},
		{"sentence starting with Il", "Il server non risponde.\nIl PC si spegne.", "Il server non risponde.\nIl PC si spegne."},
		{"da line alone is content", "Da: lunedì il PC non parte.\nGrazie", "Da: lunedì il PC non parte.\nGrazie"},
		{"crlf", "Ok.\r\n\r\n> vecchio\r\n", "Ok."},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := StripQuotes(tt.in); got != tt.want {
				t.Errorf("StripQuotes(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
		})
	}
}

// A hostile text made of very long lines and many markers must still strip correctly; this
// also exercises the length guard on marker lines.
func TestStripQuotesLongLines(t *testing.T) {
	long := strings.Repeat("Il giorno ", 10000)
	in := "Risposta.\n" + long + "\n> quoted\n" + strings.Repeat("> x\n", 1000)
	if got := StripQuotes(in); !strings.HasPrefix(got, "Risposta.\n") || strings.Contains(got, "> x") {
		t.Errorf("unexpected result starting %q", got[:min(len(got), 80)])
	}
}
