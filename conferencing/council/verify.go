package council

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
)

// Problem says what is wrong with a record.
type Problem string

// The problems Verify reports. Entry problems name the entry by its position (the seq it must
// have), so that a changed seq field is still attributed to its line.
const (
	ProblemNone      Problem = ""
	ProblemFormat    Problem = "format"     // the entry is not a well-formed record line
	ProblemHash      Problem = "hash"       // the entry's content does not match its hash
	ProblemSeq       Problem = "seq"        // the entry's number is not its position
	ProblemChain     Problem = "chain"      // the entry does not carry the previous entry's hash
	ProblemEmpty     Problem = "empty"      // no entries at all
	ProblemUnsealed  Problem = "unsealed"   // the seal line is missing (session not closed, or cut)
	ProblemSeal      Problem = "seal"       // the seal line is malformed or does not match the entries
	ProblemSignature Problem = "signature"  // the signature does not match
	ProblemUntrusted Problem = "untrusted"  // signed with another key than the trusted one
	ProblemAfterSeal Problem = "after_seal" // something follows the seal line
)

const (
	maxLine       = 4 << 20   // longest accepted line
	maxRecord     = 512 << 20 // largest accepted record
	hashSuffixLen = len(`,"hash":"`) + 64 + len(`"}`)
)

// Result is the outcome of Verify.
type Result struct {
	Valid     bool
	Entries   int64             // entries read and found intact (all of them when Valid)
	Entry     int64             // the first altered entry (0: none, or the problem is in the seal)
	Problem   Problem           // why the record is not valid
	SealedAt  string            // when it was sealed (valid records)
	PublicKey ed25519.PublicKey // the key that signed it (valid records)
}

// Fingerprint is a short, printable form of the signing key for people to compare.
func (r Result) Fingerprint() string {
	if len(r.PublicKey) == 0 {
		return ""
	}
	sum := sha256.Sum256(r.PublicKey)
	return "SHA256:" + base64.RawStdEncoding.EncodeToString(sum[:])
}

// Verify checks a sealed record read from r: every entry's hash, the chain, the numbering, the
// seal and its signature. With trusted non-nil the record must be signed by that key; with nil
// the key in the seal is reported (Result.PublicKey) for the caller to compare. Tampering is
// reported in Result (Valid false, with the first altered entry), not as an error; the error is
// for a record that cannot be read.
func Verify(r io.Reader, trusted ed25519.PublicKey) (Result, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxRecord+1))
	if err != nil {
		return Result{}, fmt.Errorf("read record: %w", err)
	}
	var res Result
	if len(data) > maxRecord {
		return Result{Problem: ProblemFormat, Entry: 1}, nil
	}
	prev := hex.EncodeToString(zeroHash[:])
	rest := data
	for len(rest) > 0 {
		i := bytes.IndexByte(rest, '\n')
		if i < 0 { // the last line must end with a newline too
			if sealish(rest) {
				return res.fail(0, ProblemSeal), nil
			}
			return res.fail(res.Entries+1, ProblemFormat), nil
		}
		line := rest[:i]
		rest = rest[i+1:]
		if bytes.HasPrefix(line, []byte(`{"seal":`)) {
			if len(rest) > 0 {
				return res.fail(0, ProblemAfterSeal), nil
			}
			return res.checkSeal(line, prev, trusted), nil
		}
		seq := res.Entries + 1
		h, p := checkEntry(line, seq, prev)
		if p == ProblemFormat && len(rest) == 0 && sealish(line) {
			return res.fail(0, ProblemSeal), nil // the seal line, its start altered
		}
		if p != ProblemNone {
			return res.fail(seq, p), nil
		}
		res.Entries, prev = seq, h
	}
	if res.Entries == 0 {
		return res.fail(0, ProblemEmpty), nil
	}
	return res.fail(0, ProblemUnsealed), nil
}

// sealish tells a damaged seal line from a damaged entry, to name the right one.
func sealish(line []byte) bool {
	return !bytes.HasPrefix(line, []byte(`{"seq":`)) && bytes.Contains(line, []byte(`"signature":`)) ||
		bytes.HasPrefix(line, []byte(`{"seal":`))
}

func (r Result) fail(entry int64, p Problem) Result {
	r.Valid, r.Entry, r.Problem = false, entry, p
	return r
}

// checkEntry checks one entry line at position seq whose predecessor has hash prev, and returns
// its hash.
func checkEntry(line []byte, seq int64, prev string) (string, Problem) {
	if len(line) > maxLine || len(line) < hashSuffixLen+2 {
		return "", ProblemFormat
	}
	body, suffix := line[:len(line)-hashSuffixLen], line[len(line)-hashSuffixLen:]
	if !bytes.HasPrefix(suffix, []byte(`,"hash":"`)) || !bytes.HasSuffix(suffix, []byte(`"}`)) {
		return "", ProblemFormat
	}
	h := string(suffix[len(`,"hash":"`) : len(suffix)-2])
	sum := sha256.Sum256(body)
	if h != hex.EncodeToString(sum[:]) {
		return "", ProblemHash
	}
	var e Entry
	if err := json.Unmarshal(line, &e); err != nil || e.Hash != h {
		return "", ProblemFormat
	}
	if e.Seq != seq {
		return "", ProblemSeq
	}
	if e.Prev != prev {
		return "", ProblemChain
	}
	return h, ProblemNone
}

// checkSeal checks the seal line against the last entry's hash. The line must be exactly what
// Seal writes, so that no byte of it can change unnoticed.
func (r Result) checkSeal(line []byte, last string, trusted ed25519.PublicKey) Result {
	if r.Entries == 0 {
		return r.fail(0, ProblemEmpty)
	}
	var sl sealLine
	if err := json.Unmarshal(line, &sl); err != nil {
		return r.fail(0, ProblemSeal)
	}
	if canon, err := json.Marshal(sl); err != nil || !bytes.Equal(canon, line) {
		return r.fail(0, ProblemSeal)
	}
	s := sl.Seal
	if s.Entries != r.Entries || s.LastHash != last {
		return r.fail(0, ProblemSeal)
	}
	pub, err1 := base64.StdEncoding.DecodeString(s.PublicKey)
	sig, err2 := base64.StdEncoding.DecodeString(s.Signature)
	// Re-encoding catches a changed padding bit, which a lenient decoder would ignore.
	if err1 != nil || err2 != nil || len(pub) != ed25519.PublicKeySize || len(sig) != ed25519.SignatureSize ||
		base64.StdEncoding.EncodeToString(pub) != s.PublicKey || base64.StdEncoding.EncodeToString(sig) != s.Signature {
		return r.fail(0, ProblemSeal)
	}
	if !ed25519.Verify(pub, sealMessage(s.Entries, s.LastHash, s.SealedAt), sig) {
		return r.fail(0, ProblemSignature)
	}
	if trusted != nil && !bytes.Equal(trusted, pub) {
		return r.fail(0, ProblemUntrusted)
	}
	r.Valid, r.Problem, r.SealedAt, r.PublicKey = true, ProblemNone, s.SealedAt, ed25519.PublicKey(pub)
	return r
}
