package mail

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// accountMetrics counts token refreshes; the other account metrics are read from the status when
// Prometheus scrapes.
type accountMetrics struct {
	refresh *prometheus.CounterVec
}

func newAccountMetrics() *accountMetrics {
	return &accountMetrics{refresh: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "rocca_mail_oauth_refresh_total",
		Help: "OAuth2 token events of mail accounts by result: ok (refreshed), signin, error (temporary), revoked (refused for good).",
	}, []string{"account", "result"})}
}

func (m *accountMetrics) refreshed(account, result string) {
	m.refresh.WithLabelValues(account, result).Inc()
}

var (
	accountReadyDesc = prometheus.NewDesc("rocca_mail_account_ready",
		"1 when the mail account can sign in (password, or a usable OAuth2 sign-in), 0 when an administrator must sign in again.",
		[]string{"account", "method"}, nil)
	accountExpiryDesc = prometheus.NewDesc("rocca_mail_account_token_expiry_timestamp_seconds",
		"When the last OAuth2 access token of the mail account expires (Unix time).", []string{"account"}, nil)
	accountLoginDesc = prometheus.NewDesc("rocca_mail_account_last_login_timestamp_seconds",
		"The last successful IMAP/SMTP login of the mail account (Unix time).", []string{"account"}, nil)
)

// Collector exposes the accounts' metrics: rocca_mail_account_ready{account,method},
// rocca_mail_account_token_expiry_timestamp_seconds, rocca_mail_account_last_login_timestamp_seconds
// and rocca_mail_oauth_refresh_total{account,result}.
func (s *Accounts) Collector() prometheus.Collector { return accountsCollector{s} }

type accountsCollector struct{ s *Accounts }

func (c accountsCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- accountReadyDesc
	ch <- accountExpiryDesc
	ch <- accountLoginDesc
	c.s.metrics.refresh.Describe(ch)
}

func (c accountsCollector) Collect(ch chan<- prometheus.Metric) {
	c.s.metrics.refresh.Collect(ch)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	sts, err := c.s.Status(ctx)
	if err != nil {
		return
	}
	for _, st := range sts {
		ready := 0.0
		if st.State == StatusReady {
			ready = 1
		}
		ch <- prometheus.MustNewConstMetric(accountReadyDesc, prometheus.GaugeValue, ready, st.Name, st.Method)
		if st.TokenExpires != nil {
			ch <- prometheus.MustNewConstMetric(accountExpiryDesc, prometheus.GaugeValue, float64(st.TokenExpires.Unix()), st.Name)
		}
		if st.LastLogin != nil {
			ch <- prometheus.MustNewConstMetric(accountLoginDesc, prometheus.GaugeValue, float64(st.LastLogin.Unix()), st.Name)
		}
	}
}
