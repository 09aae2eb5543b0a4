package helpdesk

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestAdminRoutes(t *testing.T) {
	e := newEnv(t, nil)
	e.ingest(msg{From: "anna@comune.example.it", Subject: "Uno", ID: "a1@x", Body: "primo"}.bytes(), 1)
	e.ingest(msg{From: "anna@comune.example.it", Subject: "Re: Uno", ID: "a2@x", InReplyTo: "a1@x", Body: "secondo"}.bytes(), 2)
	mux := http.NewServeMux()
	e.svc.AdminRoutes(mux, testLogger())
	ts := httptest.NewServer(mux)
	defer ts.Close()

	var list []Ticket
	getJSON(t, ts.URL+"/v1/tickets?status=nuovo", http.StatusOK, &list)
	if len(list) != 1 || list[0].Number != 1 || list[0].Status != StatusNew {
		t.Errorf("ticket list: %+v", list)
	}
	getJSON(t, ts.URL+"/v1/tickets?status=chiuso", http.StatusOK, &list)
	if len(list) != 0 {
		t.Errorf("closed tickets: %+v", list)
	}
	var v TicketView
	getJSON(t, ts.URL+"/v1/tickets/1", http.StatusOK, &v)
	if v.Ticket == nil || len(v.Messages) != 2 || v.Messages[1].Text != "secondo" {
		t.Errorf("ticket show: %+v", v)
	}
	var fail struct {
		Error struct{ Code, Key string } `json:"error"`
	}
	getJSON(t, ts.URL+"/v1/tickets/7", http.StatusNotFound, &fail)
	if fail.Error.Key != "helpdesk.error.no_ticket" {
		t.Errorf("missing ticket: %+v", fail)
	}
	getJSON(t, ts.URL+"/v1/tickets?status=boh", http.StatusBadRequest, &fail)
}

func getJSON(t *testing.T, url string, status int, out any) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != status {
		t.Fatalf("GET %s: %d, want %d", url, res.StatusCode, status)
	}
	if err := json.NewDecoder(res.Body).Decode(out); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}
