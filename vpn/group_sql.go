package vpn

import (
	"context"
	"fmt"
	"net/netip"
	"time"
)

// Group is a set of users whose devices may reach the group's destinations.
type Group struct {
	ID           int64         `json:"id"`
	Name         string        `json:"name"`
	CreatedAt    time.Time     `json:"created_at"`
	Destinations []Destination `json:"destinations"`
	Members      []int64       `json:"members"` // user ids
}

// Destination is what members of a group may reach: a network, optionally only one protocol and
// destination port.
type Destination struct {
	ID     int64        `json:"id"`
	Prefix netip.Prefix `json:"prefix"`
	Proto  string       `json:"proto,omitempty"` // "", "tcp" or "udp"
	Port   uint16       `json:"port,omitempty"`
	Note   string       `json:"note,omitempty"`
}

// loadGroups returns every group with its destinations and members, by name.
func loadGroups(ctx context.Context, q querier) ([]*Group, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, name, created_at FROM vpn_groups ORDER BY name COLLATE NOCASE`)
	if err != nil {
		return nil, fmt.Errorf("list groups: %w", err)
	}
	var groups []*Group
	byID := map[int64]*Group{}
	for rows.Next() {
		g := &Group{}
		var created int64
		if err := rows.Scan(&g.ID, &g.Name, &created); err != nil {
			rows.Close()
			return nil, fmt.Errorf("list groups: %w", err)
		}
		g.CreatedAt = fromUnix(created)
		groups = append(groups, g)
		byID[g.ID] = g
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list groups: %w", err)
	}
	if err := loadDestinations(ctx, q, byID); err != nil {
		return nil, err
	}
	rows, err = q.QueryContext(ctx, `SELECT group_id, user_id FROM vpn_group_members ORDER BY group_id, user_id`)
	if err != nil {
		return nil, fmt.Errorf("list group members: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var gid, uid int64
		if err := rows.Scan(&gid, &uid); err != nil {
			return nil, fmt.Errorf("list group members: %w", err)
		}
		if g := byID[gid]; g != nil {
			g.Members = append(g.Members, uid)
		}
	}
	return groups, rows.Err()
}

func loadDestinations(ctx context.Context, q querier, byID map[int64]*Group) error {
	rows, err := q.QueryContext(ctx, `SELECT id, group_id, prefix, proto, port, note FROM vpn_group_destinations ORDER BY group_id, id`)
	if err != nil {
		return fmt.Errorf("list destinations: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var d Destination
		var gid int64
		var prefix string
		if err := rows.Scan(&d.ID, &gid, &prefix, &d.Proto, &d.Port, &d.Note); err != nil {
			return fmt.Errorf("list destinations: %w", err)
		}
		p, err := netip.ParsePrefix(prefix)
		if err != nil {
			return fmt.Errorf("destination %d: bad prefix %q", d.ID, prefix)
		}
		d.Prefix = p
		if g := byID[gid]; g != nil {
			g.Destinations = append(g.Destinations, d)
		}
	}
	return rows.Err()
}

func insertGroup(ctx context.Context, q querier, name string, now time.Time) (int64, error) {
	res, err := q.ExecContext(ctx, `INSERT INTO vpn_groups (name, created_at) VALUES (?, ?)`, name, unix(now))
	if err != nil {
		return 0, err
	}
	return res.LastInsertId()
}

func deleteGroup(ctx context.Context, q querier, id int64) (bool, error) {
	res, err := q.ExecContext(ctx, `DELETE FROM vpn_groups WHERE id = ?`, id)
	if err != nil {
		return false, fmt.Errorf("delete group: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func insertDestination(ctx context.Context, q querier, groupID int64, d Destination) (int64, error) {
	res, err := q.ExecContext(ctx, `INSERT INTO vpn_group_destinations (group_id, prefix, proto, port, note) VALUES (?, ?, ?, ?, ?)`,
		groupID, d.Prefix.Masked().String(), d.Proto, d.Port, d.Note)
	if err != nil {
		return 0, err
	}
	return res.LastInsertId()
}

func deleteDestination(ctx context.Context, q querier, groupID, id int64) (bool, error) {
	res, err := q.ExecContext(ctx, `DELETE FROM vpn_group_destinations WHERE id = ? AND group_id = ?`, id, groupID)
	if err != nil {
		return false, fmt.Errorf("delete destination: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func insertMember(ctx context.Context, q querier, groupID, userID int64) error {
	_, err := q.ExecContext(ctx, `INSERT INTO vpn_group_members (group_id, user_id) VALUES (?, ?)`, groupID, userID)
	return err
}

func deleteMember(ctx context.Context, q querier, groupID, userID int64) (bool, error) {
	res, err := q.ExecContext(ctx, `DELETE FROM vpn_group_members WHERE group_id = ? AND user_id = ?`, groupID, userID)
	if err != nil {
		return false, fmt.Errorf("remove member: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func groupExists(ctx context.Context, q querier, id int64) (bool, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT count(*) FROM vpn_groups WHERE id = ?`, id).Scan(&n)
	return n == 1, err
}
