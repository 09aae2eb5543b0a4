package vpn

import (
	"fmt"
	"net/netip"
	"strings"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// ClientConfig is a device's configuration in the wg-quick format that the stock WireGuard apps
// (Windows, macOS, Linux, iOS, Android) import from a file or a QR code.
type ClientConfig struct {
	Title      string       // a comment line naming the device and the municipality
	PrivateKey *wgtypes.Key // nil when the owner keeps their own key: the line is left for them
	OwnKeyNote string       // the comment written instead of the private key, in the owner's language
	Address    netip.Addr
	DNS        []netip.Addr
	Search     string // DNS search domain, written after the servers as wg-quick wants
	MTU        int
	ServerKey  wgtypes.Key
	PSK        *wgtypes.Key
	Endpoint   string
	AllowedIPs []netip.Prefix
	Keepalive  int // seconds, 0 = off
}

// String renders the configuration. It holds the private key when there is one: show it once.
func (c ClientConfig) String() string {
	var b strings.Builder
	b.WriteString("[Interface]\n")
	if c.Title != "" {
		fmt.Fprintf(&b, "# %s\n", oneLine(c.Title))
	}
	if c.PrivateKey != nil {
		fmt.Fprintf(&b, "PrivateKey = %s\n", c.PrivateKey)
	} else {
		fmt.Fprintf(&b, "# PrivateKey = %s\n", oneLine(c.OwnKeyNote))
	}
	fmt.Fprintf(&b, "Address = %s/32\n", c.Address)
	if len(c.DNS) > 0 {
		dns := make([]string, 0, len(c.DNS)+1)
		for _, d := range c.DNS {
			dns = append(dns, d.String())
		}
		if c.Search != "" {
			dns = append(dns, c.Search)
		}
		fmt.Fprintf(&b, "DNS = %s\n", strings.Join(dns, ", "))
	}
	if c.MTU != 0 {
		fmt.Fprintf(&b, "MTU = %d\n", c.MTU)
	}
	b.WriteString("\n[Peer]\n")
	fmt.Fprintf(&b, "PublicKey = %s\n", c.ServerKey)
	if c.PSK != nil {
		fmt.Fprintf(&b, "PresharedKey = %s\n", c.PSK)
	}
	fmt.Fprintf(&b, "Endpoint = %s\n", c.Endpoint)
	allowed := make([]string, len(c.AllowedIPs))
	for i, p := range c.AllowedIPs {
		allowed[i] = p.String()
	}
	fmt.Fprintf(&b, "AllowedIPs = %s\n", strings.Join(allowed, ", "))
	if c.Keepalive > 0 {
		fmt.Fprintf(&b, "PersistentKeepalive = %d\n", c.Keepalive)
	}
	return b.String()
}

// oneLine keeps a comment on its line and within printable ASCII, which every app reads the same.
func oneLine(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r < 0x20 || r == 0x7f:
			b.WriteByte(' ')
		case r > 0x7e:
			b.WriteString(asciiFold(r))
		default:
			b.WriteRune(r)
		}
	}
	return strings.TrimSpace(b.String())
}

// asciiFold writes accented Italian letters without the accent.
func asciiFold(r rune) string {
	switch r {
	case 'à', 'á':
		return "a"
	case 'è', 'é':
		return "e"
	case 'ì', 'í':
		return "i"
	case 'ò', 'ó':
		return "o"
	case 'ù', 'ú':
		return "u"
	case 'À':
		return "A"
	case 'È', 'É':
		return "E"
	case 'Ì':
		return "I"
	case 'Ò':
		return "O"
	case 'Ù':
		return "U"
	}
	return "?"
}

// ConfigFileName is the file name of a device's configuration. The apps name the tunnel after the
// file, and wg-quick on Linux needs a valid interface name: at most 15 of [a-zA-Z0-9_=+.-].
func ConfigFileName(deviceName string) string {
	var b strings.Builder
	b.WriteString("rocca-")
	for _, r := range strings.ToLower(deviceName) {
		if b.Len() >= 15 {
			break
		}
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_':
			b.WriteRune(r)
		case r > 0x7e && asciiFold(r) != "?":
			b.WriteString(strings.ToLower(asciiFold(r)))
		case r == ' ' || r == '.':
			b.WriteByte('-')
		}
	}
	name := strings.TrimRight(b.String(), "-")
	return name + ".conf"
}
