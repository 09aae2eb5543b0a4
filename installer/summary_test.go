package installer

import (
	"strings"
	"testing"

	"github.com/rocca-pa/rocca/internal/config"
	"github.com/rocca-pa/rocca/internal/i18n"
)

// TestBuiltKeysExist covers the message keys built at run time: TLS names, actions, check titles.
func TestBuiltKeysExist(t *testing.T) {
	cat := testCatalog(t)
	for _, lang := range i18n.Languages() {
		t2 := func(key string, args ...any) string { return cat.T(lang, key, args...) }
		for _, m := range []config.TLSMode{config.TLSOff, config.TLSSelfSigned, config.TLSFiles, config.TLSACME} {
			if s := tlsName(t2, m); strings.HasPrefix(s, "[") {
				t.Errorf("%s: %s", lang, s)
			}
		}
		for _, a := range []Action{Create, Update, Keep, Skip} {
			if s := ActionLabel(cat, lang, a); strings.HasPrefix(s, "[") {
				t.Errorf("%s: %s", lang, s)
			}
		}
		for _, id := range CheckIDs() {
			if s := (Result{ID: id}).Title(cat, lang); strings.HasPrefix(s, "[") {
				t.Errorf("%s: %s", lang, s)
			}
		}
	}
}

func TestDescribeAnswers(t *testing.T) {
	a := testAnswers(NewPaths("/srv/x"))
	a.Config.VPN.LAN = nil
	rows := Describe(testCatalog(t), "it", a)
	text := ""
	for _, r := range rows {
		text += r[0] + "=" + r[1] + "\n"
	}
	for _, want := range []string{"Certificato=autofirmato", "LAN nessuna", "Casella helpdesk=da configurare in seguito"} {
		if !strings.Contains(text, want) {
			t.Errorf("lacks %q:\n%s", want, text)
		}
	}
}
