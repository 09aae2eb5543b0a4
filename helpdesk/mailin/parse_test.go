package mailin

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
)

func mustParse(t *testing.T, raw string, opts Options) *Message {
	t.Helper()
	m, err := Parse([]byte(raw), opts)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	checkInvariants(t, m)
	return m
}

func TestTooLarge(t *testing.T) {
	var b bytes.Buffer
	b.WriteString("From: Mario Rossi <mario.rossi@comune.example.it>\r\nSubject: Video della riunione\r\n" +
		"Message-ID: <big@comune.example.it>\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n" +
		"Content-Type: video/mp4; name=riunione.mp4\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	line := strings.Repeat("QUFB", 19) + "\r\n"
	for b.Len() < DefaultMaxSize+1 {
		b.WriteString(line)
	}
	b.WriteString("--x--\r\n")
	m, err := Parse(b.Bytes(), Options{})
	var tl *TooLargeError
	if !errors.Is(err, ErrTooLarge) || !errors.As(err, &tl) || tl.Limit != DefaultMaxSize || tl.Size != int64(b.Len()) {
		t.Fatalf("err = %v, want a TooLargeError", err)
	}
	if tl.Key() != KeyTooLarge || fmt.Sprint(tl.Args()) != "[41 40]" {
		t.Errorf("key/args = %s %v", tl.Key(), tl.Args())
	}
	// The preview has the header, for the quarantine page, and no body.
	if m == nil || m.From.Address != "mario.rossi@comune.example.it" || m.Subject != "Video della riunione" ||
		m.MessageID != "big@comune.example.it" || m.Text != "" || len(m.Attachments) != 0 {
		t.Errorf("preview = %+v", m)
	}
	// A smaller limit applies too, and a message just at the limit passes.
	small := []byte("From: a@b.it\n\n" + strings.Repeat("x", 100))
	if _, err := Parse(small, Options{MaxSize: int64(len(small)) - 1}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("MaxSize not applied: %v", err)
	}
	if _, err := Parse(small, Options{MaxSize: int64(len(small))}); err != nil {
		t.Errorf("message at the limit: %v", err)
	}
}

func TestAttachmentOverLimitIsDropped(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789"), 200)
	raw := "From: a@b.it\nMessage-ID: <att@b.it>\nContent-Type: multipart/mixed; boundary=b\n\n--b\n\nvedi allegati\n--b\n" +
		"Content-Type: application/octet-stream; name=grande.bin\nContent-Transfer-Encoding: base64\n\n" +
		b64(data) + "\n--b\nContent-Type: text/plain; name=piccolo.txt\n\npiccolo\n--b--\n"
	m := mustParse(t, raw, Options{MaxAttachment: 1000})
	if len(m.Attachments) != 2 {
		t.Fatalf("attachments = %+v", m.Attachments)
	}
	big, small := m.Attachments[0], m.Attachments[1]
	if !big.Dropped || big.Size != int64(len(data)) || big.Data != nil || big.Filename != "grande.bin" {
		t.Errorf("big = %+v", big)
	}
	if small.Dropped || string(small.Data) != "piccolo" {
		t.Errorf("small = %+v", small)
	}
	if !slices.Equal(m.Warnings, []string{WarnAttachmentTooLarge}) {
		t.Errorf("warnings = %v", m.Warnings)
	}
}

func TestAttachmentDataIsOwned(t *testing.T) {
	raw := []byte("From: a@b.it\nMessage-ID: <own@b.it>\nContent-Type: multipart/mixed; boundary=b\n\n--b\n\ntesto\n--b\n" +
		"Content-Type: text/plain; name=a.txt\n\nORIGINALE\n--b\nContent-Type: text/plain; name=b.txt\n" +
		"Content-Transfer-Encoding: base64\n\nT1JJR0lOQUxF\n--b--\n")
	m, err := Parse(raw, Options{})
	if err != nil || len(m.Attachments) != 2 {
		t.Fatalf("Parse: %v %+v", err, m.Attachments)
	}
	for i := range raw {
		raw[i] = 'X'
	}
	for _, a := range m.Attachments {
		if string(a.Data) != "ORIGINALE" {
			t.Errorf("%s shares memory with raw: %q", a.Filename, a.Data)
		}
	}
}

func TestPartsLimit(t *testing.T) {
	var b strings.Builder
	b.WriteString("From: a@b.it\nSubject: molte parti\nContent-Type: multipart/mixed; boundary=b\n\n")
	for i := 0; i < 50; i++ {
		fmt.Fprintf(&b, "--b\nContent-Type: text/plain; name=f%d.txt\n\nparte %d\n", i, i)
	}
	b.WriteString("--b--\n")
	m, err := Parse([]byte(b.String()), Options{MaxParts: 10})
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Key != KeyPartsLimit {
		t.Fatalf("err = %v, want parts limit", err)
	}
	if m == nil || m.Subject != "molte parti" || len(m.Attachments) > 10 {
		t.Errorf("best effort message: %+v", m)
	}
	if _, err := Parse([]byte(b.String()), Options{MaxParts: 51}); err != nil {
		t.Errorf("51 parts allowed: %v", err)
	}
}

// nested builds a multipart nested depth times around a text part.
func nested(depth int) string {
	var b strings.Builder
	b.WriteString("From: a@b.it\nSubject: annidato\n")
	for i := 0; i < depth; i++ {
		fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=b%d\n\n--b%d\n", i, i)
	}
	b.WriteString("Content-Type: text/plain\n\nfondo\n")
	for i := depth - 1; i >= 0; i-- {
		fmt.Fprintf(&b, "--b%d--\n", i)
	}
	return b.String()
}

func TestDepthLimit(t *testing.T) {
	m, err := Parse([]byte(nested(DefaultMaxDepth)), Options{})
	if err != nil || m.Text != "fondo" {
		t.Fatalf("at the limit: %v %q", err, m.Text)
	}
	m, err = Parse([]byte(nested(DefaultMaxDepth+1)), Options{})
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Key != KeyDepthLimit || m.Subject != "annidato" {
		t.Fatalf("beyond the limit: %v", err)
	}
	// A bomb of thousands of levels fails the same way, quickly.
	if _, err := Parse([]byte(nested(5000)), Options{}); !errors.As(err, &pe) || pe.Key != KeyDepthLimit {
		t.Fatalf("bomb: %v", err)
	}
}

func TestForwardedTooDeep(t *testing.T) {
	msg := "From: fondo@b.it\nSubject: livello 0\n\ntesto\n"
	for i := 1; i <= 5; i++ {
		msg = fmt.Sprintf("From: l%d@b.it\nSubject: livello %d\nContent-Type: message/rfc822\n\n%s", i, i, msg)
	}
	m := mustParse(t, msg, Options{MaxDepth: 3})
	depth := 0
	for f := m; len(f.Forwarded) > 0; f = f.Forwarded[0] {
		depth++
	}
	if depth != 2 {
		t.Errorf("parsed %d forwarded levels, want 2", depth)
	}
	last := m.Forwarded[0].Forwarded[0]
	if !slices.Contains(last.Warnings, WarnForwardedTooDeep) || len(last.Attachments) != 1 || last.Attachments[0].ContentType != "message/rfc822" {
		t.Errorf("deepest level: warnings %v attachments %+v", last.Warnings, last.Attachments)
	}
}

func TestMissingMessageIDIsStable(t *testing.T) {
	a := "From: scanner@comune.example.it\nDate: Wed, 13 Mar 2024 11:00:00 +0100\nSubject: Scansione\n\nuno\n"
	b := "From: scanner@comune.example.it\nDate: Wed, 13 Mar 2024 11:05:00 +0100\nSubject: Scansione\n\nuno\n"
	m1, m2 := mustParse(t, a, Options{}), mustParse(t, a, Options{})
	m3 := mustParse(t, b, Options{})
	if m1.HasMessageID || m1.MessageID != m2.MessageID {
		t.Errorf("re-delivery not deduplicated: %q %q", m1.MessageID, m2.MessageID)
	}
	if m1.MessageID == m3.MessageID {
		t.Errorf("different mails share the hash ID %q", m1.MessageID)
	}
	// The body does not enter the hash: the header block identifies a delivery.
	m4 := mustParse(t, strings.Replace(a, "uno", "due", 1), Options{})
	if m4.MessageID != m1.MessageID {
		t.Errorf("body changed the hash ID")
	}
}

func TestMalformedStillReturnsMessage(t *testing.T) {
	for name, raw := range map[string]string{
		"empty":            "",
		"no header":        "\n\nsolo corpo\n",
		"garbage":          "\x00\x01\x02 not a mail",
		"header too large": "From: a@b.it\nX-Long: " + strings.Repeat("a", maxHeaderBytes+10) + "\n\nbody\n",
		"no boundary":      "From: a@b.it\nContent-Type: multipart/mixed\n\n--x\n\ntext\n--x--\n",
		"bad base64 body":  "From: a@b.it\nContent-Transfer-Encoding: base64\n\n!!!!\n",
	} {
		t.Run(name, func(t *testing.T) {
			m, err := Parse([]byte(raw), Options{})
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Key == "" {
				t.Fatalf("err = %v, want a *ParseError", err)
			}
			if m == nil {
				t.Fatal("no best-effort message")
			}
			checkInvariants(t, m)
		})
	}
}

func TestLenientStructure(t *testing.T) {
	// A missing closing boundary keeps the last part, with a warning.
	m := mustParse(t, "From: a@b.it\nContent-Type: multipart/mixed; boundary=b\n\n--b\n\ntesto\n--b\nContent-Type: text/plain; name=a.txt\n\nallegato", Options{})
	if m.Text != "testo" || len(m.Attachments) != 1 || string(m.Attachments[0].Data) != "allegato" || !slices.Contains(m.Warnings, WarnUnterminated) {
		t.Errorf("unterminated: %q %+v %v", m.Text, m.Attachments, m.Warnings)
	}
	// An mbox "From " line and a stray line in the header.
	m = mustParse(t, "From mario@b.it Tue Mar 12 10:15:00 2024\nFrom: mario@b.it\nSubject: ok\n\ncorpo\n", Options{})
	if m.From.Address != "mario@b.it" || m.Text != "corpo" {
		t.Errorf("mbox line: %+v", m)
	}
	m = mustParse(t, "From: mario@b.it\nSubject: ok\nriga senza due punti\n\ncorpo\n", Options{})
	if m.Subject != "ok" || !strings.Contains(m.Text, "riga senza due punti") || !slices.Contains(m.Warnings, WarnHeader) {
		t.Errorf("stray header line: %q %v", m.Text, m.Warnings)
	}
	// Nested boundaries that share a prefix.
	m = mustParse(t, "From: a@b.it\nContent-Type: multipart/mixed; boundary=abc\n\n--abc\nContent-Type: multipart/alternative; boundary=abc_1\n\n--abc_1\n\ninterno\n--abc_1--\n--abc\nContent-Type: application/pdf; name=x.pdf\n\n%PDF\n--abc--\n", Options{})
	if m.Text != "interno" || len(m.Attachments) != 1 {
		t.Errorf("prefix boundaries: %q %+v", m.Text, m.Attachments)
	}
	// Unknown transfer encoding: kept as is, with a warning.
	m = mustParse(t, "From: a@b.it\nContent-Transfer-Encoding: x-uuencode\n\ntesto\n", Options{})
	if m.Text != "testo" || !slices.Contains(m.Warnings, WarnEncoding) {
		t.Errorf("unknown encoding: %q %v", m.Text, m.Warnings)
	}
	// S/MIME encryption is reported; a CAdES .p7m file is not.
	m = mustParse(t, "From: a@b.it\nContent-Type: application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m\nContent-Transfer-Encoding: base64\n\nMIAGCSqG\n", Options{})
	if !slices.Contains(m.Warnings, WarnEncrypted) {
		t.Errorf("encrypted not reported: %v", m.Warnings)
	}
	m = mustParse(t, "From: a@b.it\nContent-Type: multipart/mixed; boundary=b\n\n--b\n\nfirmato\n--b\nContent-Type: application/pkcs7-mime; name=delibera.pdf.p7m\n\nx\n--b--\n", Options{})
	if slices.Contains(m.Warnings, WarnEncrypted) {
		t.Errorf("signed .p7m taken as encrypted")
	}
}

func TestFlowedAndLineEndings(t *testing.T) {
	m := mustParse(t, "From: a@b.it\r\nContent-Type: text/plain; charset=utf-8; format=flowed; delsp=yes\r\n\r\n"+
		"Una riga lun \r\nga e basta.\r\n>> citata  \r\n>> ancora\r\n \r\n-- \r\nFirma\r\n", Options{})
	want := "Una riga lunga e basta.\n>> citata ancora\n\n-- \nFirma"
	if m.Text != want {
		t.Errorf("flowed:\n got %q\nwant %q", m.Text, want)
	}
}

func TestDecodeCharset(t *testing.T) {
	tests := []struct {
		label string
		in    []byte
		want  string
		known bool
	}{
		{"utf-8", []byte("città"), "città", true},
		{"ISO-8859-1", []byte("citt\xe0 \x80 \x93ok\x94"), "città € “ok”", true},
		{"us-ascii", []byte("perch\xe9"), "perché", true},
		{"us-ascii", []byte("perché"), "perché", true},
		{"", []byte("perch\xe9"), "perché", true},
		{"windows-1252", []byte("\x80"), "€", true},
		{"windows-1250", []byte("\x8a\x9a\xe8"), "Ššč", true},
		{"iso-8859-2", []byte("\xa9"), "Š", true},
		{"utf-8", []byte("citt\xe0"), "città", true},          // not UTF-8 at all: Windows-1252
		{"utf-8", []byte("città \xff"), "città \uFFFD", true}, // mostly UTF-8: replacement char
		{"x-unknown", []byte("città"), "città", false},
		{"x-unknown", []byte("citt\xe0"), "città", false},
		{`"UTF-8"`, []byte("è"), "è", true},
		{"utf-8", []byte("a\x00b"), "ab", true},
	}
	for _, tt := range tests {
		got, known := decodeCharset(tt.label, tt.in)
		if got != tt.want || known != tt.known {
			t.Errorf("decodeCharset(%q, %q) = %q, %v; want %q, %v", tt.label, tt.in, got, known, tt.want, tt.known)
		}
	}
}

func TestDecodeWords(t *testing.T) {
	for in, want := range map[string]string{
		"=?ISO-8859-1?Q?Rimborso_=80_45?=":          "Rimborso € 45",
		"=?iso-8859-1?q?citt=E0?= =?utf-8?b?w6g=?=": "cittàè",
		"=?UTF-8?B?UGVyY2jDqQ==?= ok":               "Perché ok",
		"=?windows-1250?Q?=8Aola?=":                 "Šola",
		"=?x-unknown?Q?citt=E0?=":                   "città",
		"raw latin1 citt\xe0":                       "raw latin1 città",
		"=?utf-8?q?broken":                          "=?utf-8?q?broken",
		"line\r\n\tfolded  text\x00":                "line folded text",
		"=?UTF-8?Q?a?= =?UTF-8?Q?b?=":               "ab",
		"=?us-ascii?Q?perch=E9?=":                   "perché",
		"=?iso-8859-1*it?Q?citt=E0?=":               "città",
	} {
		if got := decodeWords(in); got != want {
			t.Errorf("decodeWords(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseAddressList(t *testing.T) {
	tests := []struct {
		in   string
		want []string // name|address
	}{
		{`Mario Rossi <Mario.Rossi@Comune.Example.IT>`, []string{"Mario Rossi|Mario.Rossi@comune.example.it"}},
		{`"Rossi, Mario" <m@b.it>, l@b.it`, []string{"Rossi, Mario|m@b.it", "|l@b.it"}},
		{`=?iso-8859-1?Q?Nicol=F2?= <n@b.it>`, []string{"Nicolò|n@b.it"}},
		{`Nicol\xf2 Ferr\xe0 <n@b.it>`, []string{"Nicolò Ferrà|n@b.it"}},
		{`Mario Rossi <m@b.it>; Luca <l@b.it>`, []string{"Mario Rossi|m@b.it", "Luca|l@b.it"}},
		{`mario rossi m@b.it`, []string{"mario rossi|m@b.it"}},
		{`Ufficio Tecnico <tecnico@comune.example.it> (Comune)`, []string{"Ufficio Tecnico|tecnico@comune.example.it"}},
		{`undisclosed-recipients:;`, nil},
		{``, nil},
		{`<>`, nil},
		{`MAILER-DAEMON@mx.example.it (Mail Delivery Subsystem)`, []string{"Mail Delivery Subsystem|MAILER-DAEMON@mx.example.it"}},
	}
	for _, tt := range tests {
		in := strings.ReplaceAll(strings.ReplaceAll(tt.in, `\xf2`, "\xf2"), `\xe0`, "\xe0")
		var got []string
		for _, a := range parseAddressList(in) {
			got = append(got, a.Name+"|"+a.Address)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("parseAddressList(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseParams(t *testing.T) {
	tests := []struct {
		in    string
		value string
		want  map[string]string
	}{
		{`text/plain; charset="UTF-8"; format=flowed`, "text/plain", map[string]string{"charset": "UTF-8", "format": "flowed"}},
		{`attachment; filename=rendiconto spese.pdf`, "attachment", map[string]string{"filename": "rendiconto spese.pdf"}},
		{`attachment; filename*=UTF-8''rendiconto%20spese%C3%A0.pdf`, "attachment", map[string]string{"filename": "rendiconto speseà.pdf"}},
		{`attachment; filename*=iso-8859-1'it'citt%E0.pdf`, "attachment", map[string]string{"filename": "città.pdf"}},
		{"attachment; filename*0*=iso-8859-1''a%E0; filename*1=\" b.pdf\"", "attachment", map[string]string{"filename": "aà b.pdf"}},
		{`attachment; filename="a.pdf"; filename*=UTF-8''b%C3%A8.pdf`, "attachment", map[string]string{"filename": "bè.pdf"}},
		{`Application/PDF; NAME="x;y.pdf"`, "application/pdf", map[string]string{"name": "x;y.pdf"}},
		{`text/plain; name="a \"q\" b"`, "text/plain", map[string]string{"name": `a "q" b`}},
		{`multipart/mixed; boundary="----=_Part_1"; boundary=second`, "multipart/mixed", map[string]string{"boundary": "----=_Part_1"}},
		{``, "", map[string]string{}},
		{`;;;=;`, "", map[string]string{}},
	}
	for _, tt := range tests {
		v, p := parseParams(tt.in)
		if v != tt.value || !maps.Equal(p, tt.want) {
			t.Errorf("parseParams(%q) = %q %v, want %q %v", tt.in, v, p, tt.value, tt.want)
		}
	}
}

func TestTransferDecoding(t *testing.T) {
	for in, want := range map[string]string{
		"Y2l0dMOg":         "città",
		"Y2l0\r\ndMOg\n":   "città",
		"Y2l0dA":           "citt",
		"Y2l0dA==":         "citt",
		"YQ==YQ==":         "aa",
		"  Y 2 l 0 d A = ": "citt",
	} {
		got, err := decodeBase64([]byte(in))
		if err != nil || string(got) != want {
			t.Errorf("decodeBase64(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"Y2l0!dA", "Y", "Y2l0d*A="} {
		if _, err := decodeBase64([]byte(bad)); err == nil {
			t.Errorf("decodeBase64(%q) accepted", bad)
		}
	}
	for in, want := range map[string]string{
		"citt=C3=A0":          "città",
		"citt=c3=a0":          "città",
		"riga lunga=\r\nfine": "riga lungafine",
		"soft=  \nbreak":      "softbreak",
		"a = b":               "a = b",
		"100=":                "100",
		"=ZZ=4":               "=ZZ=4",
		"fine=\r":             "fine=\r",
	} {
		if got := string(decodeQP([]byte(in))); got != want {
			t.Errorf("decodeQP(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSanitizeFilename(t *testing.T) {
	for in, want := range map[string]string{
		"../../etc/passwd":       "passwd",
		`C:\Users\mario\doc.pdf`: "doc.pdf",
		"a\x00b\x1fc.txt":        "abc.txt",
		"..":                     "",
		" spazi.pdf ":            "spazi.pdf",
		"perché?.pdf":            "perché.pdf",
		strings.Repeat("è", 200): strings.Repeat("è", 127),
	} {
		if got := sanitizeFilename(in); got != want {
			t.Errorf("sanitizeFilename(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseDate(t *testing.T) {
	for _, in := range []string{
		"Tue, 12 Mar 2024 09:15:01 +0100",
		"Tue, 12 Mar 2024 09:15:01 +0100 (CET)",
		"12 Mar 2024 09:15:01 +0100",
		"Tue,  12 Mar 2024 09:15:01 +0100",
		"Tue Mar 12 09:15:01 2024",
	} {
		if d := parseDate(in); d.IsZero() || d.Year() != 2024 || d.Day() != 12 {
			t.Errorf("parseDate(%q) = %v", in, d)
		}
	}
	if d := parseDate("domani"); !d.IsZero() {
		t.Errorf("nonsense date = %v", d)
	}
}
