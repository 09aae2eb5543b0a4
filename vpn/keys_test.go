package vpn

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/internal/backup"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

func TestServerKeyCreatedOnceAndKept(t *testing.T) {
	e := newEnv(t)
	path := e.cfg.keyPath(serverKeyFile)
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("server key mode %v, want 0600", st.Mode().Perm())
	}
	if dst, _ := os.Stat(filepath.Dir(path)); dst.Mode().Perm() != 0o700 {
		t.Errorf("keys dir mode %v, want 0700", dst.Mode().Perm())
	}
	if pst, _ := os.Stat(e.cfg.keyPath(pskKeyFile)); pst.Mode().Perm() != 0o600 {
		t.Errorf("psk key mode %v, want 0600", pst.Mode().Perm())
	}
	first := e.svc.ServerPublicKey()
	os.Chmod(path, 0o644) // someone loosened it
	if again := e.service(t).ServerPublicKey(); again != first {
		t.Fatal("a restart made a new server key")
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("a loosened key file was not tightened back to 0600: %v", st.Mode().Perm())
	}
	// A damaged file is an error, never a reason to make a new key.
	os.WriteFile(path, []byte("rovinato\n"), 0o600)
	_, err = New(e.cfg, Deps{DB: e.db, Users: e.auth, Catalog: e.cat})
	wantCode(t, err, rocca.EINVALID, "vpn.error.server_key_damaged")
	if b, _ := os.ReadFile(path); string(b) != "rovinato\n" {
		t.Error("the damaged key file was overwritten")
	}
}

func TestPresharedKeysEncryptedAtRest(t *testing.T) {
	e := newEnv(t)
	dev := e.start()
	d := e.add(e.anna, "portatile")
	p, _ := dev.peer(d.Peer.PublicKey)
	psk := p.PresharedKey
	if psk == (wgtypes.Key{}) {
		t.Fatal("no pre-shared key")
	}
	var stored string
	e.db.QueryRow(`SELECT psk FROM vpn_peers WHERE id = ?`, d.Peer.ID).Scan(&stored)
	if stored == "" || bytes.Contains([]byte(stored), []byte(psk.String())) {
		t.Errorf("stored psk %q is empty or in clear", stored)
	}
	e.db.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`)
	raw, _ := os.ReadFile(filepath.Join(e.dir, "rocca.db"))
	if bytes.Contains(raw, []byte(psk.String())) || bytes.Contains(raw, psk[:]) {
		t.Error("the pre-shared key is in the database file in clear")
	}
	// A different key file cannot open it: the database alone is not enough.
	other, err := loadPSKBox(filepath.Join(t.TempDir(), "k"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.open(stored); err == nil {
		t.Error("another key opened the sealed pre-shared key")
	}
}

// TestPrivateKeyNeverStored generates client key pairs through every delivery (creation, download
// again, one-time link) and looks for the private keys, as text and as raw bytes, in every file
// of the data dir, in a backup archive and in the log.
func TestPrivateKeyNeverStored(t *testing.T) {
	e := newEnv(t)
	e.start()
	ctx := userCtx(e.admin)
	var privs []wgtypes.Key
	grab := func(d *Delivery, err error) *Delivery {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		m := regexp.MustCompile(`PrivateKey = (\S+)`).FindStringSubmatch(d.Config)
		if m == nil {
			t.Fatalf("no private key in\n%s", d.Config)
		}
		privs = append(privs, *mustKey(t, m[1]))
		return d
	}
	d := grab(e.svc.AddPeer(ctx, NewPeer{User: e.anna.Email, Name: "portatile"}))
	grab(e.svc.Rekey(ctx, d.Peer.ID))
	l, err := e.svc.CreateLink(ctx, d.Peer.ID, true)
	if err != nil {
		t.Fatal(err)
	}
	grab(e.svc.UseLink(context.Background(), linkToken(l)))
	grab(e.svc.AddMyPeer(userCtx(e.bruno), e.bruno, "telefono", ""))
	resp, err := e.svc.AddPeerCLI(ctx, PeerAddRequest{User: e.bruno.Email, Name: "cli", Expires: "90d"})
	if err != nil {
		t.Fatal(err)
	}
	grab(&Delivery{Config: resp.Config}, nil)
	e.svc.Reconcile(context.Background())

	archive := filepath.Join(t.TempDir(), "backup.tar.gz")
	if _, err := backup.Create(context.Background(), backup.Source{DB: e.db, DataDir: e.dir, Version: rocca.Version}, archive); err != nil {
		t.Fatal(err)
	}
	haystacks := map[string][]byte{"log": []byte(e.logs.String())}
	filepath.WalkDir(e.dir, func(path string, de os.DirEntry, err error) error {
		if err == nil && !de.IsDir() {
			b, _ := os.ReadFile(path)
			haystacks[path] = b
		}
		return nil
	})
	for name, b := range untar(t, archive) {
		haystacks["backup:"+name] = b
	}
	for _, m := range e.mailer.sent {
		haystacks["mail"] = append(haystacks["mail"], m.raw...)
	}
	if len(haystacks) < 5 {
		t.Fatalf("too few places searched: %v", len(haystacks))
	}
	for _, k := range privs {
		needles := [][]byte{[]byte(k.String()), k[:], []byte(base64.RawStdEncoding.EncodeToString(k[:])), []byte(base64.URLEncoding.EncodeToString(k[:]))}
		for name, hay := range haystacks {
			for _, n := range needles {
				if bytes.Contains(hay, n) {
					t.Errorf("a client private key is in %s", name)
				}
			}
		}
	}
}

// untar returns the files of a .tar.gz archive.
func untar(t *testing.T, path string) map[string][]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		out[h.Name] = b
	}
	if _, ok := out["rocca.db"]; !ok {
		t.Fatalf("backup without the database: %v", out)
	}
	return out
}
