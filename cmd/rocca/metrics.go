package main

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rocca-pa/rocca/internal/mail"
)

// outboxCollector exposes the outbox's message counts by state as rocca_mail_outbox_messages.
type outboxCollector struct{ o *mail.Outbox }

var outboxDesc = prometheus.NewDesc("rocca_mail_outbox_messages", "Messages in the outbox by state.", []string{"state"}, nil)

func (c outboxCollector) Describe(ch chan<- *prometheus.Desc) { ch <- outboxDesc }

func (c outboxCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	stats, err := c.o.Stats(ctx)
	if err != nil {
		return
	}
	for _, state := range mail.States() {
		ch <- prometheus.MustNewConstMetric(outboxDesc, prometheus.GaugeValue, float64(stats[state]), state)
	}
}

// helpdeskCollector exposes ticket counts, the quarantine and the mailbox sync state.
type helpdeskCollector struct{ s *server }

var (
	ticketsDesc    = prometheus.NewDesc("rocca_helpdesk_tickets", "Tickets by status.", []string{"status"}, nil)
	overdueDesc    = prometheus.NewDesc("rocca_helpdesk_tickets_overdue", "Active tickets past their due time.", nil, nil)
	quarantineDesc = prometheus.NewDesc("rocca_helpdesk_quarantine_messages", "Mail waiting in the quarantine.", nil, nil)
	lastSyncDesc   = prometheus.NewDesc("rocca_helpdesk_mailbox_last_sync_timestamp_seconds", "Time of the last complete mailbox sync.", nil, nil)
	connectedDesc  = prometheus.NewDesc("rocca_helpdesk_mailbox_connected", "1 while the IMAP connection is up.", nil, nil)
)

func (c helpdeskCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{ticketsDesc, overdueDesc, quarantineDesc, lastSyncDesc, connectedDesc} {
		ch <- d
	}
}

func (c helpdeskCollector) Collect(ch chan<- prometheus.Metric) {
	if c.s.desk == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if st, err := c.s.desk.Stats(ctx); err == nil {
		for status, n := range st.Tickets {
			ch <- prometheus.MustNewConstMetric(ticketsDesc, prometheus.GaugeValue, float64(n), string(status))
		}
		ch <- prometheus.MustNewConstMetric(overdueDesc, prometheus.GaugeValue, float64(st.Overdue))
		ch <- prometheus.MustNewConstMetric(quarantineDesc, prometheus.GaugeValue, float64(st.Quarantine))
	}
	if c.s.mailin == nil {
		return
	}
	st := c.s.mailin.Status()
	if !st.LastSync.IsZero() {
		ch <- prometheus.MustNewConstMetric(lastSyncDesc, prometheus.GaugeValue, float64(st.LastSync.Unix()))
	}
	connected := 0.0
	if st.Connected {
		connected = 1
	}
	ch <- prometheus.MustNewConstMetric(connectedDesc, prometheus.GaugeValue, connected)
}
