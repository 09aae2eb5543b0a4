package main

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"strings"
	"testing"
)

// enableHelpdesk turns the helpdesk on (no mailbox: requests come from the web form).
func (in *instance) enableHelpdesk() {
	in.t.Helper()
	body, err := os.ReadFile(in.config)
	if err != nil {
		in.t.Fatal(err)
	}
	cfg := strings.Replace(string(body), "[helpdesk]\nenabled = false\n", "[helpdesk]\nenabled = true\naddress = \"helpdesk@comune.example.it\"\n", 1)
	if err := os.WriteFile(in.config, []byte(cfg), 0o640); err != nil {
		in.t.Fatal(err)
	}
}

// TestTicketFromWebFormAndCLI: a staff member opens a request from "Le mie richieste"; the CLI
// lists and shows it through the admin socket.
func TestTicketFromWebFormAndCLI(t *testing.T) {
	in := newInstance(t, t.TempDir())
	in.enableHelpdesk()
	in.start()
	if _, e, code := in.rocca("Password-lunga-123\n", "user", "add", "anna@comune.example.it", "--name", "Anna Rossi", "--role", "staff", "--password-stdin"); code != 0 {
		t.Fatalf("user add: %s", e)
	}
	c := browser(t)
	if resp, body := post(t, c, in.baseURL, "/login", map[string][]string{"email": {"anna@comune.example.it"}, "password": {"Password-lunga-123"}}); resp.StatusCode != 303 {
		t.Fatalf("login: %d\n%s", resp.StatusCode, body)
	}
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	mw.WriteField("subject", "La stampante del protocollo non stampa")
	mw.WriteField("text", "Da stamattina la stampante al piano terra dà errore.")
	mw.Close()
	req, _ := http.NewRequest("POST", in.baseURL+"/requests", &form)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Origin", in.baseURL)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 303 {
		t.Fatalf("new request: %d\n%s", resp.StatusCode, b)
	}
	out, errOut, code := in.rocca("", "ticket", "list", "--json")
	if code != 0 || !strings.Contains(out, "La stampante del protocollo non stampa") || !strings.Contains(out, `"number": 1`) {
		t.Fatalf("ticket list --json: %d\n%s%s", code, out, errOut)
	}
	out, _, code = in.rocca("", "ticket", "show", "1")
	if code != 0 || !strings.Contains(out, "piano terra") || !strings.Contains(out, "anna@comune.example.it") {
		t.Fatalf("ticket show 1: %d\n%s", code, out)
	}
	_, errOut, code = in.rocca("", "ticket", "show", "99")
	if code != 1 || errOut == "" {
		t.Fatalf("ticket show 99: exit %d, %q; want 1 with a message", code, errOut)
	}
}
