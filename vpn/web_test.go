package vpn

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/internal/auth"
	"github.com/rocca-pa/rocca/internal/web"
)

// site is the service mounted on the real web server behind auth's middleware and Require. Tests
// sign in by sending X-Test-User (an e-mail), or with a real API token.
type site struct {
	*env
	srv *httptest.Server
}

func newSite(t *testing.T) *site {
	t.Helper()
	e := newEnv(t)
	logger := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ws, err := web.New(web.Options{Listen: "127.0.0.1:0", Municipality: "Comune di Prova"}, logger, e.cat, nil)
	if err != nil {
		t.Fatal(err)
	}
	ws.Use(e.auth.Middleware)
	ws.Use(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if email := r.Header.Get("X-Test-User"); email != "" {
				u, err := e.auth.UserByEmail(r.Context(), email)
				if err != nil {
					t.Errorf("test user %s: %v", email, err)
					return
				}
				r = r.WithContext(rocca.NewContextWithUser(r.Context(), u))
			}
			next.ServeHTTP(w, r)
		})
	})
	e.svc.Routes(ws, auth.Require)
	srv := httptest.NewServer(ws.Handler())
	t.Cleanup(srv.Close)
	e.start()
	return &site{env: e, srv: srv}
}

type response struct {
	status int
	header http.Header
	body   string
}

// do sends a request as user (nil: anonymous) in lang; form, when not nil, is POSTed.
func (s *site) do(t *testing.T, method, path string, user *rocca.User, lang string, form url.Values) response {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, s.srv.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if user != nil {
		req.Header.Set("X-Test-User", user.Email)
	}
	req.Header.Set("Accept-Language", lang)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{res.StatusCode, res.Header, string(b)}
}

// missingKey finds a catalog key the renderer could not resolve ("[vpn.…]") or a value html/template
// refused ("ZgotmplZ").
var missingKey = regexp.MustCompile(`\[[a-z]+\.[a-z0-9_.]+\]|ZgotmplZ`)

func checkPage(t *testing.T, what string, r response, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("%s: status %d, want %d\n%s", what, r.status, status, r.body)
	}
	if m := missingKey.FindString(r.body); m != "" {
		t.Errorf("%s: page shows %q", what, m)
	}
}

func linkToken(l *Link) string { return l.URL[strings.LastIndex(l.URL, "/")+1:] }

func TestPagesRenderInBothLanguages(t *testing.T) {
	s := newSite(t)
	ctx := userCtx(s.admin)
	d := s.add(s.anna, "portatile")
	s.add(s.bruno, "tablet")
	gid, err := s.svc.CreateGroup(ctx, "Anagrafe")
	if err != nil {
		t.Fatal(err)
	}
	dst, _ := ParseDestination("192.168.1.10", "tcp/443")
	if err := s.svc.AddDestination(ctx, gid, dst); err != nil {
		t.Fatal(err)
	}
	if err := s.svc.AddMember(ctx, gid, s.anna.Email); err != nil {
		t.Fatal(err)
	}
	s.host.device().handshake(d.Peer.PublicKey, s.clock.Now(), 10, 20, "203.0.113.9:5000")
	s.svc.Reconcile(context.Background())
	l, err := s.svc.CreateLink(ctx, d.Peer.ID, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range []string{"it", "en"} {
		for _, p := range []struct {
			path string
			user *rocca.User
		}{
			{"/vpn/devices", s.anna}, {"/vpn/devices", s.admin}, {"/admin/vpn", s.admin}, {"/admin/vpn/groups", s.admin},
			{"/admin/vpn/devices", s.admin}, {"/admin/vpn/devices?all=1", s.admin}, {"/admin/vpn/log", s.admin},
			{"/vpn/link/" + linkToken(l), nil},
		} {
			checkPage(t, lang+" "+p.path, s.do(t, "GET", p.path, p.user, lang, nil), http.StatusOK)
		}
		checkPage(t, lang+" gone link", s.do(t, "GET", "/vpn/link/unknown", nil, lang, nil), http.StatusGone)
		r := s.do(t, "POST", "/vpn/devices", s.bruno, lang, url.Values{"name": {"telefono " + lang}, "delivery": {"now"}})
		checkPage(t, lang+" delivery", r, http.StatusCreated)
		if !strings.Contains(r.body, `src="data:image/png;base64,`) || !strings.Contains(r.body, "PrivateKey = ") ||
			!strings.Contains(r.body, `download="rocca-telefono`) {
			t.Errorf("%s delivery page lacks the QR code, the configuration or the download", lang)
		}
		if cc := r.header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("delivery page Cache-Control %q, want no-store", cc)
		}
	}
	if r := s.do(t, "GET", "/admin/vpn", s.anna, "it", nil); r.status != http.StatusForbidden {
		t.Errorf("employee on the admin page: %d, want 403", r.status)
	}
	if r := s.do(t, "GET", "/vpn/devices", nil, "it", nil); r.status != http.StatusSeeOther {
		t.Errorf("anonymous on my devices: %d, want a redirect to sign in", r.status)
	}
}

// TestLinkSingleUseUnderConcurrentFetches: of 20 simultaneous requests exactly one gets the
// configuration; the others get 410 and a page that says what happened and what to do.
func TestLinkSingleUseUnderConcurrentFetches(t *testing.T) {
	s := newSite(t)
	d := s.add(s.anna, "portatile")
	l, err := s.svc.CreateLink(userCtx(s.admin), d.Peer.ID, false)
	if err != nil {
		t.Fatal(err)
	}
	if r := s.do(t, "GET", "/vpn/link/"+linkToken(l), nil, "it", nil); r.status != http.StatusOK || strings.Contains(r.body, "PrivateKey") {
		t.Fatalf("opening the link page: %d; it must not use the link yet", r.status)
	}
	const n = 20
	results := make([]response, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			results[i] = s.do(t, "POST", "/vpn/link/"+linkToken(l), nil, "it", url.Values{})
		}()
	}
	close(start)
	wg.Wait()
	ok, gone := 0, 0
	var config string
	for _, r := range results {
		switch r.status {
		case http.StatusOK:
			ok++
			config = r.body
		case http.StatusGone:
			gone++
			if !strings.Contains(r.body, "già stato usato") || !strings.Contains(r.body, "I miei dispositivi") {
				t.Errorf("410 page does not say what happened and what to do:\n%s", r.body)
			}
		default:
			t.Errorf("unexpected status %d: %s", r.status, r.body)
		}
	}
	if ok != 1 || gone != n-1 {
		t.Fatalf("%d got the configuration and %d got 410; want exactly 1 and %d", ok, gone, n-1)
	}
	m := regexp.MustCompile(`PrivateKey = (\S+)`).FindStringSubmatch(config)
	if m == nil {
		t.Fatal("the winning response has no private key")
	}
	p, _ := s.svc.Peer(context.Background(), d.Peer.ID)
	if p.PublicKey == d.Peer.PublicKey || !s.host.device().has(p.PublicKey) || s.host.device().has(d.Peer.PublicKey) {
		t.Error("using the link must give the device a new key on the interface and drop the old one")
	}
	if r := s.do(t, "GET", "/vpn/link/"+linkToken(l), nil, "en", nil); r.status != http.StatusGone || !strings.Contains(r.body, "used already") {
		t.Errorf("the used link opened again: %d", r.status)
	}
	if strings.Contains(s.logs.String(), linkToken(l)) {
		t.Error("the link token appears in the log")
	}
}

func TestLinkFileOnlyAndExpiry(t *testing.T) {
	s := newSite(t)
	d := s.add(s.anna, "portatile")
	l, _ := s.svc.CreateLink(userCtx(s.admin), d.Peer.ID, false)
	r := s.do(t, "POST", "/vpn/link/"+linkToken(l), nil, "it", url.Values{"format": {"conf"}})
	if r.status != http.StatusOK || !strings.HasPrefix(r.body, "[Interface]") || !strings.Contains(r.header.Get("Content-Disposition"), "rocca-portatile.conf") {
		t.Fatalf("format=conf: %d %q %q", r.status, r.header.Get("Content-Disposition"), r.body)
	}
	l2, _ := s.svc.CreateLink(userCtx(s.admin), d.Peer.ID, false)
	s.clock.Advance(72*time.Hour + time.Second)
	if r := s.do(t, "POST", "/vpn/link/"+linkToken(l2), nil, "it", url.Values{}); r.status != http.StatusGone {
		t.Errorf("expired link: %d, want 410", r.status)
	}
}

func TestLinkRateLimit(t *testing.T) {
	s := newSite(t)
	d := s.add(s.anna, "portatile")
	l, _ := s.svc.CreateLink(userCtx(s.admin), d.Peer.ID, false)
	for i := range linkFailures {
		if r := s.do(t, "GET", "/vpn/link/guess"+string(rune('a'+i)), nil, "it", nil); r.status != http.StatusGone {
			t.Fatalf("unknown link %d: %d", i, r.status)
		}
	}
	if r := s.do(t, "POST", "/vpn/link/"+linkToken(l), nil, "it", url.Values{}); r.status != http.StatusTooManyRequests {
		t.Fatalf("after %d unknown links: %d, want 429", linkFailures, r.status)
	}
	s.clock.Advance(linkWindow + time.Second)
	if r := s.do(t, "POST", "/vpn/link/"+linkToken(l), nil, "it", url.Values{}); r.status != http.StatusOK {
		t.Errorf("after the window: %d, want the configuration", r.status)
	}
}

func TestSelfServiceByEmailAndRevoke(t *testing.T) {
	s := newSite(t)
	r := s.do(t, "POST", "/vpn/devices", s.anna, "it", url.Values{"name": {"telefono"}, "delivery": {"email"}})
	checkPage(t, "create with e-mail", r, http.StatusCreated)
	if !strings.Contains(r.body, s.anna.Email) || strings.Contains(r.body, "PrivateKey") {
		t.Fatalf("page after e-mailing a link:\n%s", r.body)
	}
	s.mailer.mu.Lock()
	sent := s.mailer.sent
	s.mailer.mu.Unlock()
	if len(sent) != 1 || sent[0].env.To[0] != s.anna.Email {
		t.Fatalf("mails %+v", sent)
	}
	m := regexp.MustCompile(`https://rocca\.comune\.example\.it/vpn/link/[A-Za-z0-9_=\-]+`).Find(qpDecode(sent[0].raw))
	if m == nil {
		t.Fatalf("no link in the e-mail:\n%s", sent[0].raw)
	}
	token := string(m[strings.LastIndex(string(m), "/")+1:])
	if r := s.do(t, "POST", "/vpn/link/"+token, nil, "it", url.Values{}); r.status != http.StatusOK {
		t.Fatalf("e-mailed link: %d", r.status)
	}
	peers, _ := s.svc.Peers(context.Background(), PeerFilter{UserID: s.anna.ID})
	id := peers[0].ID
	path := "/vpn/devices/" + itoa(id) + "/revoke"
	if r := s.do(t, "POST", path, s.bruno, "it", url.Values{}); r.status != http.StatusNotFound {
		t.Errorf("someone else revoking: %d, want 404", r.status)
	}
	if r := s.do(t, "POST", path, s.anna, "it", url.Values{}); r.status != http.StatusSeeOther {
		t.Errorf("owner revoking: %d, want 303", r.status)
	}
	if s.host.device().has(peers[0].PublicKey) {
		t.Error("revoked from the page but still on the interface")
	}
}

func TestBadInputOnPages(t *testing.T) {
	s := newSite(t)
	r := s.do(t, "POST", "/vpn/devices", s.anna, "it", url.Values{"name": {"x"}, "public_key": {"sbagliata"}})
	checkPage(t, "bad key", r, http.StatusBadRequest)
	if !strings.Contains(r.body, "non è una chiave WireGuard") {
		t.Errorf("page does not explain the bad key:\n%s", r.body)
	}
	r = s.do(t, "POST", "/admin/vpn/devices", s.admin, "en", url.Values{"email": {"nobody@example.it"}, "name": {"x"}})
	checkPage(t, "unknown user", r, http.StatusNotFound)
	r = s.do(t, "POST", "/admin/vpn/settings", s.admin, "it", url.Values{"preset": {"custom"}, "custom_ranges": {"nonsense"},
		"max_devices": {"3"}, "link_hours": {"72"}, "default_days": {"0"}, "log_days": {"90"}})
	checkPage(t, "bad range", r, http.StatusBadRequest)
	r = s.do(t, "POST", "/admin/vpn/groups/1/destinations", s.admin, "it", url.Values{"network": {"10.0.0.1"}})
	checkPage(t, "unknown group", r, http.StatusNotFound)
	if s.countRows("vpn_peers") != 0 {
		t.Error("a refused request created a device")
	}
}

func TestAdminPagesChangeFirewall(t *testing.T) {
	s := newSite(t)
	a := s.add(s.anna, "portatile")
	r := s.do(t, "POST", "/admin/vpn/groups", s.admin, "it", url.Values{"name": {"Tecnici"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("create group: %d %s", r.status, r.body)
	}
	groups, _ := s.svc.Groups(context.Background())
	gid := itoa(groups[0].ID)
	for _, req := range []struct{ path, k, v, k2, v2 string }{
		{"/admin/vpn/groups/" + gid + "/destinations", "network", "192.168.1.20", "port", "tcp/22"},
		{"/admin/vpn/groups/" + gid + "/members", "email", s.anna.Email, "", ""},
	} {
		form := url.Values{req.k: {req.v}}
		if req.k2 != "" {
			form.Set(req.k2, req.v2)
		}
		if r := s.do(t, "POST", req.path, s.admin, "it", form); r.status != http.StatusSeeOther {
			t.Fatalf("%s: %d %s", req.path, r.status, r.body)
		}
	}
	want := "[{[" + a.Peer.Address.String() + "/32] 192.168.1.20/32 tcp 22}]"
	var got []string
	for _, rule := range s.fw.current() {
		if len(rule.Src) > 0 {
			got = append(got, "{"+formatRule(rule)+"}")
		}
	}
	if "["+strings.Join(got, " ")+"]" != want {
		t.Errorf("firewall rules with sources %v, want %s", got, want)
	}
	if r := s.do(t, "POST", "/admin/vpn/devices/"+itoa(a.Peer.ID)+"/revoke", s.admin, "it", url.Values{}); r.status != http.StatusSeeOther {
		t.Fatalf("admin revoke: %d", r.status)
	}
	for _, rule := range s.fw.current() {
		if len(rule.Src) > 0 {
			t.Errorf("rule %v left for a revoked device", rule)
		}
	}
}

func TestAPI(t *testing.T) {
	s := newSite(t)
	ctx := context.Background()
	adminToken, err := s.auth.CreateToken(ctx, s.admin.Email, "automazione", []string{"admin"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	annaToken, err := s.auth.CreateToken(ctx, s.anna.Email, "script", []string{"vpn"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	call := func(token, method, path string, body any) (int, map[string]any) {
		t.Helper()
		var rd io.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			rd = bytes.NewReader(b)
		}
		req, _ := http.NewRequest(method, s.srv.URL+path, rd)
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var out map[string]any
		json.NewDecoder(res.Body).Decode(&out)
		return res.StatusCode, out
	}
	status, out := call(adminToken, "POST", "/api/vpn/peers", PeerAddRequest{User: s.bruno.Email, Name: "server-backup", Expires: "30d"})
	if status != http.StatusCreated || !strings.Contains(out["config"].(string), "PrivateKey = ") {
		t.Fatalf("POST /api/vpn/peers: %d %v", status, out)
	}
	status, out = call(adminToken, "GET", "/api/vpn/peers", nil)
	if status != http.StatusOK || len(out["peers"].([]any)) != 1 {
		t.Fatalf("GET /api/vpn/peers: %d %v", status, out)
	}
	if status, _ := call(annaToken, "GET", "/api/vpn/peers", nil); status != http.StatusForbidden {
		t.Errorf("employee token on the admin API: %d, want 403", status)
	}
	status, out = call(annaToken, "POST", "/api/vpn/devices", DeviceAddRequest{Name: "portatile"})
	if status != http.StatusCreated || out["config"] == nil {
		t.Fatalf("POST /api/vpn/devices: %d %v", status, out)
	}
	status, out = call(annaToken, "POST", "/api/vpn/devices", DeviceAddRequest{Name: "portatile"})
	if status != http.StatusConflict || out["error"].(map[string]any)["code"] != "conflict" {
		t.Errorf("duplicate name through the API: %d %v", status, out)
	}
	status, out = call(adminToken, "GET", "/api/vpn/status", nil)
	if status != http.StatusOK || out["peers"].(float64) != 2 {
		t.Errorf("GET /api/vpn/status: %d %v", status, out)
	}
}

// qpDecode undoes quoted-printable soft line breaks and =3D, enough to find a URL in a test mail.
func qpDecode(b []byte) []byte {
	s := strings.ReplaceAll(string(b), "=\r\n", "")
	return []byte(strings.ReplaceAll(s, "=3D", "="))
}
