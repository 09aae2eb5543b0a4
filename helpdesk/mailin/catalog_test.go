package mailin

import (
	"testing"

	"github.com/rocca-pa/rocca/internal/i18n"
)

// Every quarantine reason and warning the package reports is a catalog key in both languages.
func TestCatalogKeys(t *testing.T) {
	c, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	keys := []string{
		KeyTooLarge, KeyHeader, KeyBoundary, KeyEncoding, KeyPartsLimit, KeyDepthLimit, KeyUnexpected,
		WarnWinmail, WarnAttachmentTooLarge, WarnCharset, WarnEncoding, WarnTruncated,
		WarnUnterminated, WarnHeader, WarnNoMessageID, WarnForwarded, WarnForwardedTooDeep,
		WarnEncrypted, WarnPECNoContent, WarnDatiCert,
	}
	for _, k := range keys {
		for _, lang := range i18n.Languages() {
			if !c.Has(lang, k) {
				t.Errorf("key %q missing in %s", k, lang)
			}
		}
	}
	if got := c.T("it", KeyTooLarge, (&TooLargeError{Size: 50 << 20, Limit: 40 << 20}).Args()...); got == "" || got[0] == '[' {
		t.Errorf("too-large text = %q", got)
	}
}
