// Package i18n owns Rocca's one message catalog: every text a user reads in the web pages, the CLI,
// the installer and e-mails, in Italian (the default) and English. Messages live in messages.it.toml
// and messages.en.toml beside this file, flat "area.name" keys, fmt verbs for arguments.
//
// Any package may import it. A test fails when a key is missing in either language or when code or a
// template uses a key the catalog lacks.
package i18n

import (
	"embed"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2"
)

// Default is the language used when nothing else is known.
const Default = "it"

//go:embed messages.*.toml
var files embed.FS

// Catalog holds the messages of every language.
type Catalog struct {
	msgs map[string]map[string]string // lang -> key -> text
}

// Languages returns the supported language codes, default first.
func Languages() []string { return []string{"it", "en"} }

// New loads the embedded catalog.
func New() (*Catalog, error) {
	c := &Catalog{msgs: map[string]map[string]string{}}
	for _, lang := range Languages() {
		name := "messages." + lang + ".toml"
		body, err := files.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("i18n: %w", err)
		}
		m := map[string]any{}
		if err := toml.Unmarshal(body, &m); err != nil {
			return nil, fmt.Errorf("i18n: %s: %w", name, err)
		}
		flat := map[string]string{}
		if err := flatten("", m, flat); err != nil {
			return nil, fmt.Errorf("i18n: %s: %w", name, err)
		}
		c.msgs[lang] = flat
	}
	return c, nil
}

func flatten(prefix string, m map[string]any, out map[string]string) error {
	for k, v := range m {
		key := k
		if prefix != "" {
			key = prefix + "." + k
		}
		switch v := v.(type) {
		case string:
			out[key] = v
		case map[string]any:
			if err := flatten(key, v, out); err != nil {
				return err
			}
		default:
			return fmt.Errorf("key %s: want a string, got %T", key, v)
		}
	}
	return nil
}

// T returns the message key in lang (falling back to Italian) formatted with args. A missing key
// returns the key itself in brackets, which the catalog test turns into a failure.
func (c *Catalog) T(lang, key string, args ...any) string {
	msg, ok := c.msgs[c.Supported(lang)][key]
	if !ok {
		if msg, ok = c.msgs[Default][key]; !ok {
			return "[" + key + "]"
		}
	}
	if len(args) == 0 {
		return msg
	}
	return fmt.Sprintf(msg, args...)
}

// Has reports whether key exists in lang.
func (c *Catalog) Has(lang, key string) bool {
	_, ok := c.msgs[lang][key]
	return ok
}

// Keys returns the sorted keys of lang.
func (c *Catalog) Keys(lang string) []string {
	keys := make([]string, 0, len(c.msgs[lang]))
	for k := range c.msgs[lang] {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Supported returns lang if the catalog has it, otherwise the default language.
func (c *Catalog) Supported(lang string) string {
	lang = strings.ToLower(strings.TrimSpace(lang))
	if i := strings.IndexAny(lang, "-_"); i > 0 {
		lang = lang[:i]
	}
	if _, ok := c.msgs[lang]; ok {
		return lang
	}
	return Default
}

// Match picks the best supported language for an Accept-Language header value.
func (c *Catalog) Match(acceptLanguage string) string {
	best, bestQ := Default, -1.0
	for _, part := range strings.Split(acceptLanguage, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				q = f
			}
		}
		lang := strings.ToLower(tag)
		if i := strings.IndexAny(lang, "-_"); i > 0 {
			lang = lang[:i]
		}
		if _, ok := c.msgs[lang]; ok && q > bestQ {
			best, bestQ = lang, q
		}
	}
	return best
}
