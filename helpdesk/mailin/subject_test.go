package mailin

import "testing"

func TestCleanSubject(t *testing.T) {
	for in, want := range map[string]string{
		"Re: Stampante":                        "Stampante",
		"RE: Stampante":                        "Stampante",
		"R: I: Re: Stampante":                  "Stampante",
		"Rif: stampante":                       "stampante",
		"RIF: Stampante":                       "Stampante",
		"I: Stampante":                         "Stampante",
		"Inoltra: Stampante":                   "Stampante",
		"Inoltro: Stampante":                   "Stampante",
		"Fwd: Stampante":                       "Stampante",
		"Fw: Stampante":                        "Stampante",
		"FW: Stampante":                        "Stampante",
		"AW: WG: Drucker":                      "Drucker",
		"Antw: Drucker":                        "Drucker",
		"Re[2]: Stampante":                     "Stampante",
		"Re(3): Stampante":                     "Stampante",
		"Re^2: Stampante":                      "Stampante",
		"re : Stampante":                       "Stampante",
		"  Re:   Re:Stampante   rotta ":        "Stampante rotta",
		"Re: [#12] Stampante":                  "Stampante",
		"[#12] Re: Stampante":                  "Stampante",
		"R: [Ticket #12] Stampante":            "Stampante",
		"Stampante guasta [Rocca #7]":          "Stampante guasta",
		"Rimborso spese":                       "Rimborso spese",
		"Risposta automatica: Stampante":       "Risposta automatica: Stampante",
		"Re: Re: Re: Re: Re: Re: Re: Re: Ciao": "Ciao",
		"Icona mancante":                       "Icona mancante",
		"Rete lenta":                           "Rete lenta",
		"Re:":                                  "",
		"":                                     "",
		"Oggetto\twith\ttabs\r\n":              "Oggetto with tabs",
		"[#[#1]1] nidificato":                  "nidificato",
	} {
		if got := CleanSubject(in); got != want {
			t.Errorf("CleanSubject(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseTicketTag(t *testing.T) {
	for in, want := range map[string]int{
		"Re: [#123] Stampante":           123,
		"[Ticket #45] Stampante":         45,
		"[ticket#45] Stampante":          45,
		"[Rocca #7] Stampante":           7,
		"[ # 8 ] Stampante":              8,
		"Stampante [#9]":                 9,
		"Re: [#1] Fwd: [#2] due":         1,
		"Stampante #123":                 0,
		"[#0] zero":                      0,
		"[#1234567890] troppo lungo":     0,
		"[OTRS #123] altro sistema":      0,
		"[utenti-linux-pa] lista":        0,
		"[#12a] non numerico":            0,
		"":                               0,
		"[Ticket#2024031210000012] OTRS": 0,
	} {
		if got := ParseTicketTag(in); got != want {
			t.Errorf("ParseTicketTag(%q) = %d, want %d", in, got, want)
		}
	}
}

func TestIsForwardSubject(t *testing.T) {
	for in, want := range map[string]bool{
		"I: Fattura":          true,
		"Fwd: Fattura":        true,
		"WG: Rechnung":        true,
		"Inoltro: Fattura":    true,
		"[#3] I: Fattura":     true,
		"R: I: Fattura":       false,
		"Re: Fwd: Fattura":    false,
		"Fattura I: numero 3": false,
		"Indirizzo: via Roma": false,
	} {
		if got := isForwardSubject(in); got != want {
			t.Errorf("isForwardSubject(%q) = %v, want %v", in, got, want)
		}
	}
}
