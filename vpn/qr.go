package vpn

import (
	"fmt"
	"strings"

	"github.com/rocca-pa/rocca"
	"rsc.io/qr"
)

// QRPNG returns text (a client configuration) as a QR code PNG for the web page, at error
// correction level M, 5 pixels per module, with the standard quiet zone.
func QRPNG(text string) ([]byte, error) {
	code, err := qr.Encode(text, qr.M)
	if err != nil {
		return nil, fmt.Errorf("qr code: %w", err)
	}
	code.Scale = 5
	return code.PNG(), nil
}

// qrQuiet is the margin, in modules, around a terminal QR code. The standard asks for 4; 2 is
// what phone scanners need in practice and saves columns on an 80-column terminal.
const qrQuiet = 2

// TerminalQR draws text as a QR code with half-block characters, two rows of modules per line,
// light modules as full blocks (like `qrencode -t UTF8`), which reads right on the usual dark
// terminal. When the code is wider than maxCols columns it returns a user error saying so: the
// caller then writes the configuration to a file instead.
func TerminalQR(text string, maxCols int) (string, error) {
	code, err := qr.Encode(text, qr.L)
	if err != nil {
		return "", fmt.Errorf("qr code: %w", err)
	}
	width := code.Size + 2*qrQuiet
	if width > maxCols {
		return "", rocca.Localized(rocca.ETOOLARGE, "vpn.error.qr_too_wide",
			fmt.Sprintf("the QR code needs %d columns and the terminal has %d: enlarge the window or use --out FILE", width, maxCols), width, maxCols)
	}
	light := func(x, y int) bool { return !code.Black(x-qrQuiet, y-qrQuiet) } // outside the code is light
	var b strings.Builder
	for y := 0; y < width; y += 2 {
		for x := range width {
			top, bottom := light(x, y), y+1 < width && light(x, y+1)
			if y+1 >= width {
				bottom = false // below the last row: terminal background
			}
			switch {
			case top && bottom:
				b.WriteRune('█')
			case top:
				b.WriteRune('▀')
			case bottom:
				b.WriteRune('▄')
			default:
				b.WriteByte(' ')
			}
		}
		b.WriteByte('\n')
	}
	return b.String(), nil
}
