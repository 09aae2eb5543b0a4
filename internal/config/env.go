package config

import (
	"reflect"
	"strconv"
	"strings"
)

// envPrefix starts every override: ROCCA_<SECTION>_<KEY>, e.g. ROCCA_SERVER_LISTEN. Other ROCCA_*
// variables (ROCCA_CONFIG, ROCCA_E2E) belong to others and are ignored.
const envPrefix = "ROCCA_"

// envName is the variable that overrides key of section.
func envName(section, key string) string {
	return envPrefix + strings.ToUpper(section) + "_" + strings.ToUpper(key)
}

// applyEnv applies the overrides in env ("NAME=value" entries) to the sections. It returns which
// variable set each key (vpn.lan -> ROCCA_VPN_LAN), the keys whose value was rejected, and the
// problems: a value of the wrong type, or a variable naming a key that does not exist.
func applyEnv(secs []section, env []string) (origin map[string]string, bad map[string]bool, ps Problems) {
	origin, bad = map[string]string{}, map[string]bool{}
	for _, kv := range env {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(name, envPrefix) {
			continue
		}
		for _, sec := range secs {
			rest, ok := strings.CutPrefix(name, envPrefix+strings.ToUpper(sec.name)+"_")
			if !ok {
				continue
			}
			key := strings.ToLower(rest)
			f, found := sec.field(key)
			if !found {
				ps = append(ps, unknownEnv(name, sec, rest))
				break
			}
			full := sec.name + "." + key
			if p := setFromEnv(f, value); p != nil {
				p.Env, p.Key = name, full
				ps = append(ps, *p)
				bad[full] = true
			} else {
				delete(bad, full) // a later, valid entry for the same variable wins
			}
			origin[full] = name
			break
		}
	}
	return origin, bad, ps
}

func unknownEnv(name string, sec section, rest string) Problem {
	p := Problem{Severity: SeverityError, Env: name}
	if hint := closest(strings.ToLower(rest), sec.keys()); hint != "" {
		p.Msg, p.Args = "config.env_unknown_hint", []any{sec.name, envName(sec.name, hint)}
		return p
	}
	names := make([]string, 0, len(sec.keys()))
	for _, k := range sec.keys() {
		names = append(names, envName(sec.name, k))
	}
	p.Msg, p.Args = "config.env_unknown", []any{sec.name, strings.Join(names, ", ")}
	return p
}

// setFromEnv parses value for the field's type: text as is, whole numbers, true/false, and lists as
// comma-separated items ("192.168.1.0/24, 10.0.0.0/8"; empty means an empty list).
func setFromEnv(f reflect.Value, value string) *Problem {
	switch f.Kind() {
	case reflect.String:
		f.SetString(value)
	case reflect.Int:
		n, err := strconv.ParseInt(strings.TrimSpace(value), 10, 64)
		if err != nil || f.OverflowInt(n) {
			return &Problem{Severity: SeverityError, Msg: "config.env_int", Args: []any{value}}
		}
		f.SetInt(n)
	case reflect.Bool:
		switch strings.ToLower(strings.TrimSpace(value)) {
		case "true":
			f.SetBool(true)
		case "false":
			f.SetBool(false)
		default:
			return &Problem{Severity: SeverityError, Msg: "config.env_bool", Args: []any{value}}
		}
	case reflect.Slice:
		list := []string{}
		for item := range strings.SplitSeq(value, ",") {
			if item = strings.TrimSpace(item); item != "" {
				list = append(list, item)
			}
		}
		f.Set(reflect.ValueOf(list))
	default:
		panic("config: unsupported field kind " + f.Kind().String())
	}
	return nil
}
