package council

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"
)

// The record file is JSON lines. Each line but the last is one entry, in this exact form:
//
//	{"seq":1,"time":"2025-03-01T18:00:00.000Z","type":"session_opened","data":{...},"prev":"<64 hex>","hash":"<64 hex>"}
//
// hash is the SHA-256 of the line up to (not including) `,"hash":` — the entry's canonical JSON
// without its own hash — and prev is the hash of the entry before (64 zeros for the first). The
// last line seals the record:
//
//	{"seal":{"entries":N,"last_hash":"<hash of entry N>","sealed_at":"...","public_key":"<base64>","signature":"<base64>"}}
//
// signature is Ed25519 over sealMessage. Because every hash covers the exact bytes of its line,
// changing any byte of an entry breaks that entry's hash, and Verify can name it.

// zeroHash is the prev of the first entry.
var zeroHash = [sha256.Size]byte{}

const timeLayout = "2006-01-02T15:04:05.000Z07:00"

// Entry is one event of the record.
type Entry struct {
	Seq  int64           `json:"seq"`
	Time string          `json:"time"`
	Type string          `json:"type"`
	Data json.RawMessage `json:"data"`
	Prev string          `json:"prev"`
	Hash string          `json:"hash"`
}

// seal is the last line of a closed record.
type seal struct {
	Entries   int64  `json:"entries"`
	LastHash  string `json:"last_hash"`
	SealedAt  string `json:"sealed_at"`
	PublicKey string `json:"public_key"`
	Signature string `json:"signature"`
}

type sealLine struct {
	Seal seal `json:"seal"`
}

// sealMessage is what the Ed25519 signature covers.
func sealMessage(entries int64, lastHash, sealedAt string) []byte {
	return []byte("rocca council record v1\n" + strconv.FormatInt(entries, 10) + "\n" + lastHash + "\n" + sealedAt)
}

// entryLine returns the line (with its newline) and hash of an entry.
func entryLine(seq int64, t time.Time, typ string, data json.RawMessage, prev string) ([]byte, string, error) {
	b, err := json.Marshal(struct {
		Seq  int64           `json:"seq"`
		Time string          `json:"time"`
		Type string          `json:"type"`
		Data json.RawMessage `json:"data"`
		Prev string          `json:"prev"`
	}{seq, t.UTC().Format(timeLayout), typ, data, prev})
	if err != nil {
		return nil, "", err
	}
	body := b[:len(b)-1] // without the closing brace
	sum := sha256.Sum256(body)
	h := hex.EncodeToString(sum[:])
	line := make([]byte, 0, len(body)+len(h)+12)
	line = append(line, body...)
	line = append(line, `,"hash":"`...)
	line = append(line, h...)
	line = append(line, "\"}\n"...)
	return line, h, nil
}

// Record is the append-only log of one session, written to a file as events happen (each entry
// is on disk before Append returns) and sealed once at close.
type Record struct {
	mu     sync.Mutex
	f      *os.File
	w      *bufio.Writer
	seq    int64
	last   string
	sealed bool
}

// CreateRecord creates the record file at path (0600; it must not exist yet).
func CreateRecord(path string) (*Record, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create record directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create record: %w", err)
	}
	return &Record{f: f, w: bufio.NewWriter(f), last: hex.EncodeToString(zeroHash[:])}, nil
}

// Append writes one event. data is marshalled to JSON (structs and maps give canonical bytes).
func (r *Record) Append(t time.Time, typ string, data any) (Entry, error) {
	raw, err := json.Marshal(data)
	if err != nil {
		return Entry{}, fmt.Errorf("record %s: %w", typ, err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.sealed {
		return Entry{}, fmt.Errorf("record %s: the record is sealed", typ)
	}
	line, h, err := entryLine(r.seq+1, t, typ, raw, r.last)
	if err != nil {
		return Entry{}, fmt.Errorf("record %s: %w", typ, err)
	}
	if err := r.write(line); err != nil {
		return Entry{}, fmt.Errorf("record %s: %w", typ, err)
	}
	e := Entry{Seq: r.seq + 1, Time: t.UTC().Format(timeLayout), Type: typ, Data: raw, Prev: r.last, Hash: h}
	r.seq, r.last = e.Seq, h
	return e, nil
}

func (r *Record) write(line []byte) error {
	if _, err := r.w.Write(line); err != nil {
		return err
	}
	if err := r.w.Flush(); err != nil {
		return err
	}
	return r.f.Sync()
}

// Seal signs the last hash with key, writes the seal line and closes the file. Nothing can be
// appended afterwards.
func (r *Record) Seal(key ed25519.PrivateKey, t time.Time) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.sealed {
		return fmt.Errorf("seal record: already sealed")
	}
	at := t.UTC().Format(timeLayout)
	s := seal{Entries: r.seq, LastHash: r.last, SealedAt: at,
		PublicKey: base64.StdEncoding.EncodeToString(key.Public().(ed25519.PublicKey)),
		Signature: base64.StdEncoding.EncodeToString(ed25519.Sign(key, sealMessage(r.seq, r.last, at)))}
	b, err := json.Marshal(sealLine{s})
	if err != nil {
		return fmt.Errorf("seal record: %w", err)
	}
	if err := r.write(append(b, '\n')); err != nil {
		return fmt.Errorf("seal record: %w", err)
	}
	r.sealed = true
	if err := r.f.Close(); err != nil {
		return fmt.Errorf("seal record: %w", err)
	}
	return nil
}

// Close closes the file without sealing (server shutdown with the session still open).
func (r *Record) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.sealed {
		return nil
	}
	r.sealed = true
	if err := r.w.Flush(); err != nil {
		_ = r.f.Close()
		return err
	}
	return r.f.Close()
}

// ResumeRecord opens a record that was closed without a seal (the server stopped during the
// session), to write why it ended and seal it. The chain is checked first; a last line cut short
// by a crash is dropped (dropped says how many bytes). A sealed or damaged record is refused.
func ResumeRecord(path string) (r *Record, dropped int, err error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, 0, fmt.Errorf("resume record: %w", err)
	}
	if len(data) > maxRecord {
		return nil, 0, fmt.Errorf("resume record: larger than %d bytes", maxRecord)
	}
	seq, last := int64(0), hex.EncodeToString(zeroHash[:])
	end := 0 // bytes of whole, valid entries
	for rest := data; len(rest) > 0; {
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			break // cut short while being written
		}
		line := rest[:i]
		if bytes.HasPrefix(line, []byte(`{"seal":`)) {
			return nil, 0, fmt.Errorf("resume record: already sealed")
		}
		h, p := checkEntry(line, seq+1, last)
		if p != ProblemNone {
			return nil, 0, fmt.Errorf("resume record: entry %d: %s", seq+1, p)
		}
		seq, last, end, rest = seq+1, h, end+i+1, rest[i+1:]
	}
	if seq == 0 {
		return nil, 0, fmt.Errorf("resume record: no entry")
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return nil, 0, fmt.Errorf("resume record: %w", err)
	}
	if err := f.Truncate(int64(end)); err == nil {
		_, err = f.Seek(int64(end), io.SeekStart)
	}
	if err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("resume record: %w", err)
	}
	return &Record{f: f, w: bufio.NewWriter(f), seq: seq, last: last}, len(data) - end, nil
}

// LastHash is the hash of the last entry written.
func (r *Record) LastHash() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.last
}

// SealInterrupted ends the record of a session the server stopped during: it appends
// session_interrupted, naming the record the session continues in, and seals it. It returns the
// hash of that last entry, for the new record to point back to.
func SealInterrupted(path string, key ed25519.PrivateKey, t time.Time, continuedIn string) (string, error) {
	r, dropped, err := ResumeRecord(path)
	if err != nil {
		return "", err
	}
	data := map[string]any{"reason": "server_restart", "file": continuedIn}
	if dropped > 0 {
		data["dropped_bytes"] = dropped // an entry the crash cut short
	}
	if _, err := r.Append(t, "session_interrupted", data); err != nil {
		r.Close()
		return "", err
	}
	last := r.LastHash()
	if err := r.Seal(key, t); err != nil {
		r.Close()
		return "", err
	}
	return last, nil
}
