package conferencing

import (
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/rocca-pa/rocca/conferencing/client"
)

// get fetches path as user (0: nobody) and returns status, headers and body.
func (e *env) get(path string, user int64, header ...string) (int, http.Header, string) {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.base+path, nil)
	if user != 0 {
		req.Header.Set("X-Test-User", string(rune('0'+user)))
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := noRedirect.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, string(b)
}

var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

var (
	scriptTag = regexp.MustCompile(`<script[^>]*>`)
	i18nBlock = regexp.MustCompile(`(?s)<script type="application/json" id="meeting-i18n">(.*?)</script>`)
	jsKey     = regexp.MustCompile(`\bt\("([a-z_]+)"`)
)

// The join page works under the strict CSP: no inline script, the module and stylesheet from
// versioned URLs, every text the client uses present in the page's JSON block, in the visitor's
// language; guests are asked for a name (and the passcode), users are not.
func TestJoinPage(t *testing.T) {
	e := newEnv(t)
	m := e.meeting(NewMeeting{Passcode: "2468"})
	status, h, body := e.get("/meetings/"+m.PublicID, 0)
	if status != http.StatusOK || !strings.Contains(h.Get("Content-Security-Policy"), "script-src 'self'") {
		t.Fatalf("join page: %d, CSP %q", status, h.Get("Content-Security-Policy"))
	}
	for _, tag := range scriptTag.FindAllString(body, -1) {
		if !strings.Contains(tag, `src="`) && !strings.Contains(tag, `type="application/json"`) {
			t.Errorf("inline script on the join page: %s", tag)
		}
	}
	for _, want := range []string{`id="join-name"`, `id="join-passcode"`, `id="camera-select"`, `id="mic-select"`,
		`type="module" src="/meetings/static/meeting.js?v=`, `href="/meetings/static/meeting.css?v=`, "Partecipa"} {
		if !strings.Contains(body, want) {
			t.Errorf("join page lacks %s", want)
		}
	}
	match := i18nBlock.FindStringSubmatch(body)
	if match == nil {
		t.Fatal("no i18n block")
	}
	var texts map[string]string
	if err := json.Unmarshal([]byte(match[1]), &texts); err != nil {
		t.Fatalf("i18n block is not JSON: %v\n%s", err, match[1])
	}
	used := map[string]bool{"role_host": true, "role_cohost": true, "role_guest": true, "role_chair": true,
		"role_secretary": true, "role_public": true, "quality_good": true, "quality_fair": true, "quality_poor": true,
		"quality_unknown": true}
	files, _ := fs.Glob(client.Static(), "*.js")
	for _, name := range files {
		src, _ := fs.ReadFile(client.Static(), name)
		for _, k := range jsKey.FindAllStringSubmatch(string(src), -1) {
			used[k[1]] = true
		}
	}
	for k := range used {
		if v := texts[k]; v == "" || strings.HasPrefix(v, "[") {
			t.Errorf("the client uses text %q, missing from the page (%q)", k, v)
		}
	}
	if texts["join"] != "Partecipa" {
		t.Errorf("Italian page says %q", texts["join"])
	}

	_, _, en := e.get("/meetings/"+m.PublicID, 0, "Accept-Language", "en-GB,en;q=0.9")
	if !strings.Contains(en, `"join": "Join"`) || !strings.Contains(en, "Your name") {
		t.Error("English page not in English")
	}
	_, _, user := e.get("/meetings/"+m.PublicID, 1)
	if strings.Contains(user, `id="join-name"`) || strings.Contains(user, `id="join-passcode"`) || !strings.Contains(user, "Anna Rossi") {
		t.Error("a signed-in user is asked for a name or passcode")
	}
	if status, _, body := e.get("/meetings/nosuchmeeting", 0); status != http.StatusNotFound || !strings.Contains(body, "Riunione non trovata") {
		t.Errorf("unknown meeting: %d", status)
	}
}

// The client's files are served with one version for all: the versioned URL is cached for a year,
// and the ES module imports carry the version too.
func TestStaticFiles(t *testing.T) {
	e := newEnv(t)
	v := e.svc.assets.version
	status, h, body := e.get("/meetings/static/meeting.js?v="+v, 0)
	if status != http.StatusOK || !strings.Contains(h.Get("Cache-Control"), "immutable") ||
		!strings.HasPrefix(h.Get("Content-Type"), "text/javascript") {
		t.Fatalf("meeting.js: %d %v", status, h)
	}
	if !strings.Contains(body, `from "./signal.js?v=`+v+`"`) || strings.Contains(body, `from "./signal.js"`) {
		t.Error("module imports are not versioned")
	}
	if _, h, _ := e.get("/meetings/static/meeting.css", 0); h.Get("Cache-Control") != "no-cache" || h.Get("ETag") == "" {
		t.Errorf("unversioned css: %v", h)
	}
	if status, _, _ := e.get("/meetings/static/nope.js", 0); status != http.StatusNotFound {
		t.Errorf("missing file: %d", status)
	}
	if status, _, _ := e.get("/meetings/static/..%2fservice.go", 0); status != http.StatusNotFound {
		t.Errorf("path escape: %d", status)
	}
}

// Staff schedule a meeting from the list page; others see their meetings but no form.
func TestMeetingsListPage(t *testing.T) {
	e := newEnv(t)
	status, _, body := e.get("/meetings", 1)
	if status != http.StatusOK || !strings.Contains(body, `action="/meetings"`) || !strings.Contains(body, "Nessuna riunione") {
		t.Fatalf("list page: %d\n%s", status, body)
	}
	if status, _, _ := e.get("/meetings", 0); status != http.StatusUnauthorized {
		t.Errorf("list without signing in: %d", status)
	}
	form := url.Values{"title": {"Ufficio tecnico"}, "start": {"2030-02-01T09:30"}, "duration": {"45"},
		"invitees": {"carla@comune.test\nesterno@example.org"}, "passcode": {"13579"}}
	post := func(user string, f url.Values) (*http.Response, string) {
		req, _ := http.NewRequest(http.MethodPost, e.base+"/meetings", strings.NewReader(f.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Test-User", user)
		res, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res, string(b)
	}
	res, _ := post("1", form)
	loc := res.Header.Get("Location")
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/meetings?created=") {
		t.Fatalf("create: %d %s", res.StatusCode, loc)
	}
	_, _, body = e.get(loc, 1)
	id := strings.TrimPrefix(loc, "/meetings?created=")
	for _, want := range []string{"Ufficio tecnico", e.base + "/meetings/" + id, "13579", "Inviti in spedizione: 2"} {
		if !strings.Contains(body, want) {
			t.Errorf("after creating, the page lacks %q", want)
		}
	}
	_, _, carla := e.get("/meetings", 3)
	if !strings.Contains(carla, "Ufficio tecnico") || strings.Contains(carla, `action="/meetings"`) {
		t.Error("the invited councillor does not see the meeting, or sees the form")
	}
	if res, _ := post("3", form); res.StatusCode != http.StatusForbidden {
		t.Errorf("councillor creating: %d", res.StatusCode)
	}
	form.Set("invitees", "not-an-address")
	res, body = post("1", form)
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "not-an-address") || !strings.Contains(body, "Ufficio tecnico") {
		t.Errorf("bad form: %d", res.StatusCode)
	}
}
