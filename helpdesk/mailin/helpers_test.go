package mailin

import (
	"encoding/base64"
	"strings"
)

// b64 encodes data as mail does: base64 in lines of 76 characters.
func b64(data []byte) string {
	s := base64.StdEncoding.EncodeToString(data)
	var b strings.Builder
	for len(s) > 76 {
		b.WriteString(s[:76] + "\n")
		s = s[76:]
	}
	b.WriteString(s)
	return b.String()
}
