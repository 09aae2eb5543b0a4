package vpn

import (
	"context"
	"errors"
	"time"

	"github.com/rocca-pa/rocca"
)

// Status is the state of the VPN at a glance (`rocca vpn status`, the admin page).
type Status struct {
	Interface     string    `json:"interface"`
	Up            bool      `json:"up"`
	Mode          string    `json:"mode,omitempty"`         // kernel, userspace or external, while up
	Problem       string    `json:"problem,omitempty"`      // why the interface is not up (English)
	ProblemKey    string    `json:"problem_key,omitempty"`  // the same as a catalog key
	ProblemArgs   []any     `json:"problem_args,omitempty"` // and its arguments
	PublicKey     string    `json:"public_key"`
	ListenPort    int       `json:"listen_port"`
	Endpoint      string    `json:"endpoint"`
	Subnet        string    `json:"subnet"`
	ServerAddress string    `json:"server_address"`
	Peers         int       `json:"peers"`  // live devices
	Online        int       `json:"online"` // of which online
	FreeAddresses int       `json:"free_addresses"`
	RxBytes       int64     `json:"rx_bytes"`
	TxBytes       int64     `json:"tx_bytes"`
	LastReconcile time.Time `json:"last_reconcile,omitzero"`
	NextExpiry    time.Time `json:"next_expiry,omitzero"`
}

// Status reports the interface and the devices.
func (s *Service) Status(ctx context.Context) (*Status, error) {
	st := &Status{
		Interface: s.cfg.Interface, PublicKey: s.ServerPublicKey().String(), ListenPort: s.cfg.ListenPort,
		Endpoint: s.cfg.Endpoint, Subnet: s.net.subnet.String(), ServerAddress: s.net.server.String(),
		NextExpiry: s.NextExpiry(),
	}
	up, mode, problem := s.deviceState()
	st.Up, st.Mode = up, mode
	if problem != nil {
		st.Problem = rocca.ErrorMessage(problem)
		var e *rocca.Error
		if errors.As(problem, &e) && e.Code != rocca.EINTERNAL {
			st.ProblemKey, st.ProblemArgs = e.Key, e.Args
		}
	}
	peers, err := s.Peers(ctx, PeerFilter{})
	if err != nil {
		return nil, err
	}
	for _, p := range peers {
		st.Peers++
		if p.Online {
			st.Online++
		}
		st.RxBytes += p.RxBytes
		st.TxBytes += p.TxBytes
	}
	now := s.clock.Now()
	first, last := poolRange(s.net.subnet)
	taken, err := takenCount(ctx, s.db, first, last, now.Add(-s.cfg.HoldBack))
	if err != nil {
		return nil, err
	}
	total := 1<<(32-s.net.subnet.Bits()) - 3 // network, server and broadcast are never given out
	st.FreeAddresses = max(total-taken, 0)
	s.mu.Lock()
	st.LastReconcile = s.statsAt
	s.mu.Unlock()
	return st, nil
}

// Connections returns the newest entries of the connection log, of one device when peerID > 0.
func (s *Service) Connections(ctx context.Context, peerID int64, limit int) ([]Connection, error) {
	if limit <= 0 || limit > 1000 {
		limit = 200
	}
	list, err := listConnections(ctx, s.db, peerID, limit)
	if err != nil {
		return nil, err
	}
	users, err := s.userMap(ctx)
	if err != nil {
		return nil, err
	}
	for i := range list {
		if u := users[list[i].OwnerID]; u != nil {
			list[i].Owner = u.Email
		}
	}
	return list, nil
}
