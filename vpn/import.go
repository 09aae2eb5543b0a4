package vpn

import (
	"bufio"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"

	"github.com/rocca-pa/rocca"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// WGQuick is a server's wg-quick file (/etc/wireguard/wg0.conf) as far as Rocca adopts it.
type WGQuick struct {
	PrivateKey wgtypes.Key // the zero key when the file has none
	ListenPort int
	Addresses  []netip.Prefix
	Peers      []WGQuickPeer
	Ignored    []string // keys Rocca does not take over (PostUp, Table, ...), for a warning
}

// WGQuickPeer is one [Peer] section. It never holds a private key.
type WGQuickPeer struct {
	Line         int    // where the section starts, for messages
	Name         string // from a comment such as "# laptop di Anna" right before or inside the section
	PublicKey    wgtypes.Key
	PresharedKey *wgtypes.Key
	AllowedIPs   []netip.Prefix
	Endpoint     string
	Keepalive    int
}

// maxImportSize bounds what ImportWGQuick reads: a real file with thousands of peers is far smaller.
const maxImportSize = 4 << 20

// ImportWGQuick parses a wg-quick configuration. Keys are matched without regard to case, values
// may carry comments after '#', list values may be split across repeated keys. Keys that belong to
// wg-quick's shell hooks or routing (PostUp, Table, SaveConfig, ...) are listed in Ignored. A
// malformed line is a user error naming the line.
func ImportWGQuick(r io.Reader) (*WGQuick, error) {
	p := &wgParser{out: &WGQuick{}}
	sc := bufio.NewScanner(io.LimitReader(r, maxImportSize+1))
	sc.Buffer(make([]byte, 64<<10), 64<<10)
	read := 0
	for sc.Scan() {
		p.line++
		read += len(sc.Bytes()) + 1
		if read > maxImportSize {
			return nil, rocca.Localized(rocca.ETOOLARGE, "vpn.import.too_large", "the file is too large for a WireGuard configuration")
		}
		if err := p.feed(sc.Text()); err != nil {
			return nil, err
		}
	}
	if err := sc.Err(); err != nil {
		return nil, importErr(p.line+1, "vpn.import.line_too_long", "the line is too long")
	}
	if err := p.endPeer(); err != nil {
		return nil, err
	}
	if !p.sawInterface {
		return nil, rocca.Localized(rocca.EINVALID, "vpn.import.no_interface", "the file has no [Interface] section: it is not a WireGuard configuration")
	}
	return p.out, nil
}

type wgParser struct {
	out          *WGQuick
	line         int
	section      string // "", "interface" or "peer"
	sawInterface bool
	peer         *WGQuickPeer
	hasKey       bool
	comment      string // the last comment line, a candidate peer name
	seen         map[wgtypes.Key]bool
}

// importErr is a problem at a line of the file; key names it in the catalog, whose message takes
// the line number first, then args.
func importErr(line int, key, what string, args ...any) error {
	return rocca.Localized(rocca.EINVALID, key, fmt.Sprintf("line %d of the WireGuard file: %s", line, what), append([]any{line}, args...)...)
}

func (p *wgParser) feed(raw string) error {
	line := strings.TrimSpace(raw)
	if line == "" {
		p.comment = ""
		return nil
	}
	if c, ok := strings.CutPrefix(line, "#"); ok {
		p.noteComment(strings.TrimSpace(c))
		return nil
	}
	if strings.HasPrefix(line, "[") {
		return p.startSection(line)
	}
	key, value, ok := strings.Cut(line, "=")
	if !ok {
		return importErr(p.line, "vpn.import.syntax", "expected Key = Value")
	}
	if i := strings.IndexByte(value, '#'); i >= 0 {
		value = value[:i]
	}
	key, value = strings.ToLower(strings.TrimSpace(key)), strings.TrimSpace(value)
	switch p.section {
	case "interface":
		return p.interfaceKey(key, value)
	case "peer":
		return p.peerKey(key, value)
	}
	return importErr(p.line, "vpn.import.outside", "a setting outside [Interface] or [Peer]")
}

// noteComment remembers a comment as the name of the next (or current) peer. Tools write names
// as "# Name = laptop", "### begin laptop ###" or just "# laptop".
func (p *wgParser) noteComment(c string) {
	c = strings.Trim(c, "# ")
	if k, v, ok := strings.Cut(c, "="); ok {
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "name", "friendly_name", "friendlyname", "client":
			c = strings.TrimSpace(v)
		default:
			c = ""
		}
	}
	if len(c) >= 6 && strings.EqualFold(c[:6], "begin ") {
		c = strings.TrimSpace(c[6:])
	}
	if len(c) >= 4 && strings.EqualFold(c[:4], "end ") {
		c = ""
	}
	if p.section == "peer" && p.peer != nil && p.peer.Name == "" && c != "" {
		p.peer.Name = clipName(c)
		return
	}
	p.comment = c
}

func (p *wgParser) startSection(line string) error {
	name := strings.ToLower(strings.TrimSpace(strings.Trim(line, "[]")))
	if !strings.HasSuffix(line, "]") {
		return importErr(p.line, "vpn.import.header", "a section header must end with ']'")
	}
	if err := p.endPeer(); err != nil {
		return err
	}
	switch name {
	case "interface":
		if p.sawInterface {
			return importErr(p.line, "vpn.import.second_interface", "a second [Interface] section")
		}
		p.sawInterface = true
	case "peer":
		p.peer = &WGQuickPeer{Line: p.line, Name: clipName(p.comment)}
		p.hasKey = false
	default:
		return importErr(p.line, "vpn.import.unknown_section", "unknown section "+line, line)
	}
	p.section = name
	p.comment = ""
	return nil
}

func (p *wgParser) endPeer() error {
	if p.peer == nil {
		return nil
	}
	if !p.hasKey {
		return importErr(p.peer.Line, "vpn.import.peer_no_key", "a [Peer] without PublicKey")
	}
	if p.seen == nil {
		p.seen = map[wgtypes.Key]bool{}
	}
	if p.seen[p.peer.PublicKey] {
		return importErr(p.peer.Line, "vpn.import.peer_twice", "the same PublicKey appears in two [Peer] sections")
	}
	p.seen[p.peer.PublicKey] = true
	p.out.Peers = append(p.out.Peers, *p.peer)
	p.peer = nil
	return nil
}

func (p *wgParser) interfaceKey(key, value string) error {
	switch key {
	case "privatekey":
		k, err := ParseKey(value)
		if err != nil {
			return importErr(p.line, "vpn.import.bad_key", "PrivateKey is not a WireGuard key", "PrivateKey")
		}
		p.out.PrivateKey = k
	case "listenport":
		n, err := strconv.Atoi(value)
		if err != nil || n < 1 || n > 65535 {
			return importErr(p.line, "vpn.import.bad_port", "ListenPort must be a number from 1 to 65535")
		}
		p.out.ListenPort = n
	case "address":
		for _, f := range splitList(value) {
			a, err := netip.ParsePrefix(f)
			if err != nil {
				return importErr(p.line, "vpn.import.bad_address", "Address "+f+" is not an address with its network length, such as 10.0.0.1/24", f)
			}
			p.out.Addresses = append(p.out.Addresses, a)
		}
	default:
		p.out.Ignored = append(p.out.Ignored, key)
	}
	return nil
}

func (p *wgParser) peerKey(key, value string) error {
	pe := p.peer
	switch key {
	case "publickey":
		k, err := ParseKey(value)
		if err != nil {
			return importErr(p.line, "vpn.import.bad_key", "PublicKey is not a WireGuard key", "PublicKey")
		}
		pe.PublicKey, p.hasKey = k, true
	case "presharedkey":
		k, err := ParseKey(value)
		if err != nil {
			return importErr(p.line, "vpn.import.bad_key", "PresharedKey is not a WireGuard key", "PresharedKey")
		}
		pe.PresharedKey = &k
	case "allowedips":
		for _, f := range splitList(value) {
			a, err := netip.ParsePrefix(f)
			if err != nil {
				return importErr(p.line, "vpn.import.bad_allowed", "AllowedIPs "+f+" is not a network such as 10.0.0.2/32", f)
			}
			pe.AllowedIPs = append(pe.AllowedIPs, a)
		}
	case "endpoint":
		pe.Endpoint = value
	case "persistentkeepalive":
		if value == "off" {
			break
		}
		n, err := strconv.Atoi(value)
		if err != nil || n < 0 || n > 65535 {
			return importErr(p.line, "vpn.import.bad_keepalive", "PersistentKeepalive must be a number of seconds")
		}
		pe.Keepalive = n
	default:
		p.out.Ignored = append(p.out.Ignored, key)
	}
	return nil
}

func splitList(v string) []string {
	var out []string
	for _, f := range strings.Split(v, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// clipName makes a comment usable as a device name.
func clipName(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, strings.TrimSpace(s))
	if r := []rune(s); len(r) > maxNameLen {
		s = string(r[:maxNameLen])
	}
	return s
}
