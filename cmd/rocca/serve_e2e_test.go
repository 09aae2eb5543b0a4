package main

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	adminEmail    = "it@comune.example.it"
	adminPassword = "Castello-di-prova-2026"
)

// setupAdmin completes the first-run setup through the logged link and returns the signed-in client.
func setupAdmin(t *testing.T, in *instance) (link string) {
	t.Helper()
	link = in.logs.field("setup_url")
	if link == "" {
		t.Fatalf("no setup_url in the log:\n%s", in.logs)
	}
	c := browser(t)
	resp, body := get(t, c, link)
	if resp.StatusCode != 200 || !strings.Contains(body, `name="password2"`) {
		t.Fatalf("GET setup link: %d\n%s", resp.StatusCode, body)
	}
	u, _ := url.Parse(link)
	resp, body = post(t, c, in.baseURL, u.Path, url.Values{
		"name": {"Ufficio Informatico"}, "email": {adminEmail}, "password": {adminPassword}, "password2": {adminPassword},
	})
	if resp.StatusCode != 303 {
		t.Fatalf("POST setup: %d\n%s", resp.StatusCode, body)
	}
	return link
}

// TestFirstRunSetupLoginLogout: the logged link creates the admin once; the admin signs in, reaches
// the admin page and signs out; the link cannot be used again.
func TestFirstRunSetupLoginLogout(t *testing.T) {
	in := newInstance(t, t.TempDir())
	in.start()
	link := setupAdmin(t, in)

	c := browser(t)
	resp, _ := get(t, c, in.baseURL+"/admin/users")
	if resp.StatusCode != 303 || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
		t.Fatalf("anonymous /admin/users: %d %s; want 303 to /login", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, body := post(t, c, in.baseURL, "/login", url.Values{"email": {adminEmail}, "password": {adminPassword}})
	if resp.StatusCode != 303 {
		t.Fatalf("login: %d\n%s", resp.StatusCode, body)
	}
	resp, body = get(t, c, in.baseURL+"/admin/users")
	if resp.StatusCode != 200 || !strings.Contains(body, adminEmail) {
		t.Fatalf("admin page after login: %d\n%s", resp.StatusCode, body)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
		t.Fatalf("admin page CSP = %q", csp)
	}
	resp, _ = post(t, c, in.baseURL, "/logout", nil)
	if resp.StatusCode != 303 {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	resp, _ = get(t, c, in.baseURL+"/admin/users")
	if resp.StatusCode != 303 {
		t.Fatalf("admin page after logout: %d; want a redirect to /login", resp.StatusCode)
	}

	// The link is spent, by GET and by POST.
	resp, body = get(t, browser(t), link)
	if resp.StatusCode != 410 {
		t.Fatalf("second use of the setup link: %d\n%s", resp.StatusCode, body)
	}
	u, _ := url.Parse(link)
	resp, _ = post(t, browser(t), in.baseURL, u.Path, url.Values{
		"name": {"Intruso"}, "email": {"x@example.org"}, "password": {adminPassword}, "password2": {adminPassword},
	})
	if resp.StatusCode != 410 {
		t.Fatalf("second POST of the setup link: %d; want 410", resp.StatusCode)
	}

	// With an admin in place, a restart prints no new link.
	in.stop()
	in.start()
	if l := in.logs.field("setup_url"); l != "" {
		t.Fatalf("restart with an admin still logs a setup link: %s", l)
	}
}

// TestUnusedSetupLinkRenewedAtRestart: an unused link is replaced by a new one at the next start.
func TestUnusedSetupLinkRenewedAtRestart(t *testing.T) {
	in := newInstance(t, t.TempDir())
	in.start()
	first := in.logs.field("setup_url")
	in.stop()
	in.start()
	second := in.logs.field("setup_url")
	if first == "" || second == "" || first == second {
		t.Fatalf("links %q then %q; want two different links", first, second)
	}
	if resp, _ := get(t, browser(t), first); resp.StatusCode != 410 {
		t.Fatalf("old link: %d; want 410", resp.StatusCode)
	}
}

// TestUserAddThroughAdminSocket: the CLI manages users on a running server and says clearly when
// the server is down.
func TestUserAddThroughAdminSocket(t *testing.T) {
	in := newInstance(t, t.TempDir())
	in.start()
	out, errOut, code := in.rocca("Password-lunga-123\n", "user", "add", "anna@comune.example.it", "--name", "Anna Rossi", "--role", "staff", "--password-stdin")
	if code != 0 || !strings.Contains(out, "anna@comune.example.it") {
		t.Fatalf("user add: %d\n%s%s", code, out, errOut)
	}
	out, _, code = in.rocca("", "user", "list", "--json")
	if code != 0 || !strings.Contains(out, `"anna@comune.example.it"`) || !strings.Contains(out, `"staff"`) {
		t.Fatalf("user list --json: %d\n%s", code, out)
	}
	_, errOut, code = in.rocca("", "user", "add", "anna@comune.example.it", "--name", "Anna", "--role", "staff")
	if code != 1 || errOut == "" {
		t.Fatalf("duplicate user add: exit %d, %q; want 1 with a message", code, errOut)
	}
	_, _, code = in.rocca("", "user", "add", "bruno@comune.example.it", "--name", "Bruno", "--role", "boss")
	if code != 2 {
		t.Fatalf("bad role: exit %d; want 2 (usage)", code)
	}
	in.stop()
	_, errOut, code = in.rocca("", "user", "add", "carla@comune.example.it", "--name", "Carla", "--role", "staff")
	if code != 1 || !strings.Contains(errOut, "non è in esecuzione") || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
		t.Fatalf("user add with the server stopped: exit %d, %q; want 1 and one line saying it is not running", code, errOut)
	}
}

// TestConfigCheckNamesEveryMistake: three mistakes, three messages with line and key, exit 1.
func TestConfigCheckNamesEveryMistake(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "rocca.toml")
	os.WriteFile(path, []byte(`[server]
listen = "127.0.0.1:8080"
tls = "forse"

[vpn]
subnet = "10.86.0.0/33"

[municipality]
language = "fr"
`), 0o640)
	in := &instance{t: t, config: path}
	_, errOut, code := in.rocca("", "config", "check", path)
	if code != 1 {
		t.Fatalf("exit %d; want 1\n%s", code, errOut)
	}
	for _, want := range []string{"rocca.toml:3", "server.tls", "rocca.toml:6", "vpn.subnet", "rocca.toml:9", "municipality.language"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("output lacks %q:\n%s", want, errOut)
		}
	}
	if n := strings.Count(errOut, "rocca.toml:"); n < 3 {
		t.Errorf("%d messages naming the file; want 3:\n%s", n, errOut)
	}
}
