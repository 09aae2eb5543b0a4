package mailin

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

func corpusFiles(f *testing.F) [][]byte {
	f.Helper()
	files, err := filepath.Glob("testdata/corpus/*.eml")
	if err != nil {
		f.Fatal(err)
	}
	var out [][]byte
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// FuzzParse: Parse never panics, always returns a message (with or without an error), keeps its
// output within bounds of the input, and produces only valid UTF-8.
func FuzzParse(f *testing.F) {
	for _, b := range corpusFiles(f) {
		f.Add(b)
	}
	f.Add([]byte("From: a@b.it\nContent-Type: multipart/mixed; boundary=\"\"\n\n--\n\nx\n"))
	f.Add([]byte("Content-Type: message/rfc822\n\nContent-Type: message/rfc822\n\nFrom: a@b.it\n\nx"))
	f.Add([]byte("From: a@b.it\nX-Trasporto: posta-certificata\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: message/rfc822\n\n\n--b--\n"))
	opts := Options{MaxSize: 1 << 20, MaxAttachment: 64 << 10, MaxParts: 64, MaxDepth: 8,
		OwnAddresses: []string{"helpdesk@comune.example.it"}, OwnDomain: "rocca.comune.example.it"}
	f.Fuzz(func(t *testing.T, raw []byte) {
		m, err := Parse(raw, opts)
		if m == nil {
			t.Fatalf("nil message (err %v)", err)
		}
		var pe *ParseError
		if err != nil && !errors.As(err, &pe) && !errors.Is(err, ErrTooLarge) {
			t.Fatalf("error of unexpected type %T: %v", err, err)
		}
		if pe != nil && pe.Key == KeyUnexpected {
			t.Fatalf("Parse recovered a panic: %v", pe.Err)
		}
		checkInvariants(t, m)
		// Output is bounded by the input: decoding only shrinks base64 and quoted-printable, and a
		// single-byte charset at most triples in UTF-8; HTML sanitising and the text rendering add
		// a bounded amount per input byte.
		if n := outputSize(m); n > 16*len(raw)+64<<10 {
			t.Fatalf("output %d bytes for %d bytes of input", n, len(raw))
		}
	})
}

func outputSize(m *Message) int {
	n := len(m.Text) + len(m.NewText) + len(m.HTML) + len(m.Subject)
	for _, a := range m.Attachments {
		n += len(a.Data)
	}
	for _, f := range m.Forwarded {
		n += outputSize(f)
	}
	return n
}

// FuzzStripQuotes: never panics, returns valid UTF-8 for valid input, never returns an empty
// result for a non-blank text, and never adds text. testdata/fuzz/FuzzStripQuotes/8d58a4dede568479
// is the first finding: invalid UTF-8 grew by replacement characters, which only valid input
// (all that Parse produces) must not do.
func FuzzStripQuotes(f *testing.F) {
	for _, b := range corpusFiles(f) {
		if m, _ := Parse(b, Options{}); m != nil && m.Text != "" {
			f.Add(m.Text)
		}
	}
	f.Add("Ok.\n\nIl giorno mar 12 mar 2024 alle ore 10:15 Mario <\nm@x.it> ha scritto:\n> a")
	f.Add("> a\n> b")
	f.Add("Da: x\nInviato: y\nA: z\nOggetto: w\n\nold")
	f.Fuzz(func(t *testing.T, s string) {
		got := StripQuotes(s)
		if utf8.ValidString(s) && !utf8.ValidString(got) {
			t.Fatalf("invalid UTF-8 from valid input")
		}
		if strings.TrimSpace(s) != "" && strings.TrimSpace(got) == "" {
			t.Fatalf("StripQuotes(%q) is blank", s)
		}
		// Invalid UTF-8 (never produced by Parse) may grow by replacement characters.
		if utf8.ValidString(s) && len(got) > len(s) {
			t.Fatalf("StripQuotes grew the text: %d > %d", len(got), len(s))
		}
	})
}

// FuzzCleanSubject: never panics, returns valid UTF-8 no longer than its input, and is stable
// on subjects without brackets (where no tag removal can create a new prefix or tag).
func FuzzCleanSubject(f *testing.F) {
	for _, b := range corpusFiles(f) {
		if m, _ := Parse(b, Options{}); m != nil {
			f.Add(m.Subject)
		}
	}
	f.Add("R: I: Re[2]: AW: WG: Antw: [#12] Stampante")
	f.Add("Re: " + strings.Repeat("Re: ", 100) + "x")
	f.Add("[#[#1]1] x")
	f.Fuzz(func(t *testing.T, s string) {
		c := CleanSubject(s)
		if !utf8.ValidString(c) {
			t.Fatalf("invalid UTF-8")
		}
		if len(c) > len(cleanLine(s)) {
			t.Fatalf("CleanSubject(%q) = %q grew", s, c)
		}
		if !strings.Contains(s, "[") && CleanSubject(c) != c {
			t.Fatalf("CleanSubject not stable: %q → %q → %q", s, c, CleanSubject(c))
		}
		_ = isForwardSubject(s)
		if n := ParseTicketTag(s); n < 0 {
			t.Fatalf("negative tag")
		}
	})
}

// FuzzParseDatiCert: never panics; accepted documents give valid UTF-8 fields.
func FuzzParseDatiCert(f *testing.F) {
	f.Add([]byte(sampleDatiCert))
	f.Add([]byte(`<?xml version="1.0" encoding="ISO-8859-1"?><postacert tipo="accettazione"><dati><msgid>&lt;a@b&gt;</msgid></dati></postacert>`))
	f.Add([]byte(`<!DOCTYPE p [<!ENTITY a "aaaa">]><postacert><intestazione><oggetto>&a;</oggetto></intestazione></postacert>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		dc, err := ParseDatiCert(b)
		if err != nil {
			return
		}
		for _, s := range []string{dc.Tipo, dc.Mittente, dc.Oggetto, dc.MsgID, dc.Identificativo, dc.ErroreEsteso} {
			if !utf8.ValidString(s) || len(s) > maxIDLen {
				t.Fatalf("bad field %q", s)
			}
		}
	})
}
