package config

import (
	"bufio"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"

	"github.com/rocca-pa/rocca/internal/i18n"
)

// Write renders cfg as a complete rocca.toml: every section and key, each under its comment from the
// catalog (config.help.<section>[.<key>]), Italian first, then English. docs/rocca.sample.toml is
// Write(Default()); the installer writes the file it installs the same way.
func Write(w io.Writer, cfg *Config, cat *i18n.Catalog) error {
	bw := bufio.NewWriter(w)
	comment(bw, cat.T("it", "config.help.header"))
	comment(bw, cat.T("en", "config.help.header"))
	for _, sec := range sectionsOf(cfg, nil) {
		help := "config.help." + sec.name
		fmt.Fprintln(bw)
		comment(bw, cat.T("it", help))
		comment(bw, cat.T("en", help))
		fmt.Fprintf(bw, "[%s]\n", sec.name)
		for _, key := range sec.keys() {
			f, _ := sec.field(key)
			fmt.Fprintln(bw)
			comment(bw, cat.T("it", help+"."+key))
			comment(bw, cat.T("en", help+"."+key))
			fmt.Fprintf(bw, "%s = %s\n", key, tomlValue(f))
		}
	}
	return bw.Flush()
}

func comment(w io.Writer, text string) {
	for line := range strings.SplitSeq(text, "\n") {
		fmt.Fprintln(w, strings.TrimRight("# "+line, " "))
	}
}

func tomlValue(f reflect.Value) string {
	switch f.Kind() {
	case reflect.String:
		return tomlString(f.String())
	case reflect.Int:
		return strconv.FormatInt(f.Int(), 10)
	case reflect.Bool:
		return strconv.FormatBool(f.Bool())
	case reflect.Slice:
		items := make([]string, 0, f.Len())
		for i := range f.Len() {
			items = append(items, tomlString(f.Index(i).String()))
		}
		return "[" + strings.Join(items, ", ") + "]"
	default:
		panic("config: unsupported field kind " + f.Kind().String())
	}
}

// tomlString quotes s as a TOML basic string (Go's strconv.Quote uses escapes TOML lacks).
func tomlString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
