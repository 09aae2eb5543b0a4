package config

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2/unstable"
)

// section is one table of the file bound to the struct it fills. Fields are strings (or named
// strings), ints, bools and string lists: the only shapes a non-specialist should have to write.
type section struct {
	name string
	v    reflect.Value // addressable struct
}

func sectionsOf(cfg *Config, admin *Admin) []section {
	rv := reflect.ValueOf(cfg).Elem()
	var out []section
	for i := range rv.NumField() {
		out = append(out, section{name: rv.Type().Field(i).Tag.Get("toml"), v: rv.Field(i)})
	}
	if admin != nil {
		out = append(out, section{name: "admin", v: reflect.ValueOf(admin).Elem()})
	}
	return out
}

func (s section) keys() []string {
	t := s.v.Type()
	keys := make([]string, 0, t.NumField())
	for i := range t.NumField() {
		keys = append(keys, t.Field(i).Tag.Get("toml"))
	}
	return keys
}

func (s section) field(key string) (reflect.Value, bool) {
	t := s.v.Type()
	for i := range t.NumField() {
		if t.Field(i).Tag.Get("toml") == key {
			return s.v.Field(i), true
		}
	}
	return reflect.Value{}, false
}

func findSection(secs []section, name string) (section, bool) {
	for _, s := range secs {
		if s.name == name {
			return s, true
		}
	}
	return section{}, false
}

func sectionNames(secs []section) []string {
	names := make([]string, 0, len(secs))
	for _, s := range secs {
		names = append(names, s.name)
	}
	return names
}

// position is where a key (or a list element, "vpn.lan[1]") sits in the file, with the value as
// written when it is a scalar.
type position struct {
	line, column int
	raw          string
}

type positions map[string]position

// index walks the TOML syntax tree to find the line and column of every key, table header and list
// element. go-toml's decoder reports positions only for syntax errors; validation needs them for
// every key. A document the parser rejects yields what was indexed before the error.
func index(data []byte) positions {
	out := positions{}
	lines := lineStarts(data)
	var p unstable.Parser
	p.Reset(data)
	var table []string
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.Table, unstable.ArrayTable:
			it := e.Key()
			parts, first := keyParts(&it)
			table = parts
			if first != nil {
				out.record(lines, table, first)
			}
		case unstable.KeyValue:
			out.keyValue(&p, lines, table, e)
		}
	}
	return out
}

func keyParts(it *unstable.Iterator) ([]string, *unstable.Node) {
	var parts []string
	var first *unstable.Node
	for it.Next() {
		n := it.Node()
		if first == nil {
			first = n
		}
		parts = append(parts, string(n.Data))
	}
	return parts, first
}

// record notes the position of every prefix of path not seen yet, so that the implicit table of a
// dotted key ("server.listen = ...") has a line too.
func (out positions) record(lines []int, path []string, at *unstable.Node) {
	line, column := lineColumn(lines, at.Raw.Offset)
	for i := 1; i <= len(path); i++ {
		k := strings.Join(path[:i], ".")
		if _, ok := out[k]; !ok {
			out[k] = position{line: line, column: column}
		}
	}
}

// lineStarts returns the offset at which each line begins. (Parser.Shape scans from the start of the
// document on every call, which is quadratic over a long file.)
func lineStarts(data []byte) []int {
	starts := []int{0}
	for i, b := range data {
		if b == '\n' {
			starts = append(starts, i+1)
		}
	}
	return starts
}

// lineColumn converts a byte offset to a 1-based line and column, columns counted in bytes as
// go-toml counts them.
func lineColumn(starts []int, offset uint32) (int, int) {
	i, found := slices.BinarySearch(starts, int(offset))
	if !found {
		i--
	}
	return i + 1, int(offset) - starts[i] + 1
}

func (out positions) keyValue(p *unstable.Parser, lines []int, table []string, kv *unstable.Node) {
	it := kv.Key()
	parts, first := keyParts(&it)
	if first == nil {
		return
	}
	path := append(slices.Clone(table), parts...)
	out.record(lines, path, first)
	key := strings.Join(path, ".")
	v := kv.Value()
	switch v.Kind {
	case unstable.InlineTable:
		children := v.Children()
		for children.Next() {
			if c := children.Node(); c.Kind == unstable.KeyValue {
				out.keyValue(p, lines, path, c)
			}
		}
	case unstable.Array:
		children := v.Children()
		for i := 0; children.Next(); {
			c := children.Node()
			if c.Kind == unstable.Comment {
				continue
			}
			// Nested arrays carry no range in the syntax tree; their problems fall back to the key.
			if c.Kind != unstable.Array {
				line, column := lineColumn(lines, c.Raw.Offset)
				at := position{line: line, column: column}
				if c.Kind != unstable.InlineTable {
					at.raw = string(p.Raw(c.Raw))
				}
				out[fmt.Sprintf("%s[%d]", key, i)] = at
			}
			i++
		}
	default:
		at := out[key]
		at.raw = string(p.Raw(v.Raw))
		out[key] = at
	}
}

// decoder copies a generic TOML document into the sections, strictly: unknown sections and keys and
// values of the wrong type are problems, and decoding goes on after each one.
type decoder struct {
	file  string
	pos   positions
	secs  []section
	bad   map[string]bool // keys whose value was rejected: their default stays and is not re-checked
	probs Problems
}

func (d *decoder) problem(key string, msg string, args ...any) {
	at, ok := d.pos[key]
	if base, _, isItem := strings.Cut(key, "["); !ok && isItem {
		at = d.pos[base]
	}
	d.probs = append(d.probs, Problem{Severity: SeverityError, File: d.file, Line: at.line, Column: at.column,
		Key: key, Msg: msg, Args: args})
}

func (d *decoder) decode(doc map[string]any) {
	for _, name := range sortedKeys(doc) {
		sec, ok := findSection(d.secs, name)
		if !ok {
			d.unknownSection(name)
			continue
		}
		table, ok := doc[name].(map[string]any)
		if !ok {
			d.problem(name, "config.want_table", name)
			continue
		}
		for _, key := range sortedKeys(table) {
			full := name + "." + key
			f, ok := sec.field(key)
			if !ok {
				if hint := closest(key, sec.keys()); hint != "" {
					d.problem(full, "config.unknown_key_hint", hint)
				} else {
					d.problem(full, "config.unknown_key", name, strings.Join(sec.keys(), ", "))
				}
				continue
			}
			d.assign(full, f, table[key])
		}
	}
}

func (d *decoder) unknownSection(name string) {
	// A key written above every [section] lands at the top level: say where it belongs.
	for _, s := range d.secs {
		if _, ok := s.field(name); ok {
			d.problem(name, "config.outside_section", s.name)
			return
		}
	}
	if hint := closest(name, sectionNames(d.secs)); hint != "" {
		d.problem(name, "config.unknown_section_hint", hint)
		return
	}
	d.problem(name, "config.unknown_section", "["+strings.Join(sectionNames(d.secs), "], [")+"]")
}

func (d *decoder) assign(key string, f reflect.Value, v any) {
	switch f.Kind() {
	case reflect.String:
		s, ok := v.(string)
		if !ok {
			d.reject(key, "config.want_string", v)
			return
		}
		f.SetString(s)
	case reflect.Int:
		n, ok := v.(int64)
		if !ok || f.OverflowInt(n) {
			d.reject(key, "config.want_int", v)
			return
		}
		f.SetInt(n)
	case reflect.Bool:
		b, ok := v.(bool)
		if !ok {
			d.reject(key, "config.want_bool", v)
			return
		}
		f.SetBool(b)
	case reflect.Slice:
		list, ok := v.([]any)
		if !ok {
			d.reject(key, "config.want_list", v)
			return
		}
		out := make([]string, 0, len(list))
		for i, e := range list {
			s, ok := e.(string)
			if !ok {
				d.reject(fmt.Sprintf("%s[%d]", key, i), "config.want_list_item", e)
				d.bad[key] = true
				continue
			}
			out = append(out, s)
		}
		if !d.bad[key] {
			f.Set(reflect.ValueOf(out))
		}
	default:
		panic("config: unsupported field kind " + f.Kind().String()) // a programming error in Config
	}
}

func (d *decoder) reject(key, msg string, v any) {
	shown := d.pos[key].raw
	if shown == "" {
		shown = show(v)
	}
	d.problem(key, msg, shorten(shown))
	d.bad[key] = true
}

// show renders a decoded value the way it would be written in TOML, for messages.
func show(v any) string {
	switch v := v.(type) {
	case string:
		return strconv.Quote(v)
	case []any:
		parts := make([]string, 0, len(v))
		for _, e := range v {
			parts = append(parts, show(e))
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]any:
		return "{…}"
	default:
		return fmt.Sprint(v)
	}
}

func shorten(s string) string {
	const limit = 60
	if r := []rune(s); len(r) > limit {
		return string(r[:limit]) + "…"
	}
	return s
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// closest returns the candidate within two edits of s (a likely typo), or "".
func closest(s string, candidates []string) string {
	best, bestD := "", 3
	if len(s) > 64 {
		return "" // no typo is that long; spare the quadratic work
	}
	for _, c := range candidates {
		if d := distance(strings.ToLower(s), c); d < bestD && d < len(c) {
			best, bestD = c, d
		}
	}
	return best
}

// distance is the Levenshtein distance between a and b, in bytes.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
