package i18n

import (
	"regexp"
	"strings"
	"testing"
)

func TestLanguagesHaveTheSameKeys(t *testing.T) {
	c, err := New()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range Languages() {
		for _, b := range Languages() {
			for _, k := range c.Keys(a) {
				if !c.Has(b, k) {
					t.Errorf("key %q is in %s but missing in %s", k, a, b)
				}
			}
		}
	}
}

var verb = regexp.MustCompile(`%[-+# 0-9.]*[a-zA-Z%]`)

func TestPlaceholdersAgree(t *testing.T) {
	c, _ := New()
	for _, k := range c.Keys("it") {
		it := strings.Join(verb.FindAllString(c.T("it", k), -1), " ")
		en := strings.Join(verb.FindAllString(c.T("en", k), -1), " ")
		if it != en {
			t.Errorf("key %q: it has %q, en has %q", k, it, en)
		}
	}
}

func TestMatch(t *testing.T) {
	c, _ := New()
	for in, want := range map[string]string{
		"":                        "it",
		"en-GB,en;q=0.9":          "en",
		"de-DE,en;q=0.5,it;q=0.8": "it",
		"fr":                      "it",
		"EN":                      "en",
	} {
		if got := c.Match(in); got != want {
			t.Errorf("Match(%q) = %q, want %q", in, got, want)
		}
	}
	if got := c.T("xx", "app.name"); got != "Rocca" {
		t.Errorf("fallback = %q", got)
	}
	if got := c.T("it", "no.such.key"); got != "[no.such.key]" {
		t.Errorf("missing key = %q", got)
	}
}
