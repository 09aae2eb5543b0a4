package vpn

import (
	"context"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/internal/sqlite"
)

// Groups lists the groups with their destinations and members.
func (s *Service) Groups(ctx context.Context) ([]*Group, error) {
	return loadGroups(ctx, s.db)
}

// CreateGroup adds an empty group; names are unique regardless of case.
func (s *Service) CreateGroup(ctx context.Context, name string) (int64, error) {
	name = strings.TrimSpace(name)
	if n := utf8.RuneCountInString(name); n == 0 || n > maxNameLen || strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 }) {
		return 0, rocca.Localized(rocca.EINVALID, "vpn.error.group_name", fmt.Sprintf("the group name must be 1 to %d characters on one line", maxNameLen), maxNameLen)
	}
	id, err := insertGroup(ctx, s.db, name, s.clock.Now())
	if sqlite.IsUniqueViolation(err) {
		return 0, rocca.Localized(rocca.ECONFLICT, "vpn.error.group_exists", fmt.Sprintf("a group named %q exists already", name), name)
	}
	if err != nil {
		return 0, fmt.Errorf("create group: %w", err)
	}
	s.auditLog(ctx, "vpn.group.create", map[string]any{"group": id, "name": name})
	return id, nil
}

// DeleteGroup removes a group; its members fall back to the default access.
func (s *Service) DeleteGroup(ctx context.Context, id int64) error {
	ok, err := deleteGroup(ctx, s.db, id)
	if err != nil {
		return err
	}
	if !ok {
		return errGroupNotFound(id)
	}
	s.auditLog(ctx, "vpn.group.delete", map[string]any{"group": id})
	s.syncFirewall(ctx)
	return nil
}

func errGroupNotFound(id int64) error {
	return rocca.Localized(rocca.ENOTFOUND, "vpn.error.group_not_found", fmt.Sprintf("there is no group with number %d", id), id)
}

// ParseDestination reads a destination as admins write it: "192.168.1.10" or "192.168.1.0/24",
// optionally followed by "tcp/443", "udp/53", "tcp" or "443" (tcp and udp).
func ParseDestination(network, proto string) (Destination, error) {
	var d Destination
	network = strings.TrimSpace(network)
	if a, err := netip.ParseAddr(network); err == nil && a.Is4() {
		d.Prefix = netip.PrefixFrom(a, 32)
	} else if p, err := netip.ParsePrefix(network); err == nil && p.Addr().Is4() {
		d.Prefix = p.Masked()
	} else {
		return d, rocca.Localized(rocca.EINVALID, "vpn.error.destination", fmt.Sprintf("%q is not an IPv4 address or network such as 192.168.1.10 or 192.168.1.0/24", network), network)
	}
	proto = strings.ToLower(strings.TrimSpace(proto))
	name, port, hasPort := strings.Cut(proto, "/")
	if !hasPort {
		if _, err := strconv.Atoi(name); err == nil {
			name, port, hasPort = "", name, true
		}
	}
	switch name {
	case "", "any", "tcp", "udp":
		if name == "any" {
			name = ""
		}
		d.Proto = name
	default:
		return d, errPortSpec(proto)
	}
	if hasPort {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return d, errPortSpec(proto)
		}
		d.Port = uint16(n)
	}
	return d, nil
}

func errPortSpec(s string) error {
	return rocca.Localized(rocca.EINVALID, "vpn.error.port_spec", fmt.Sprintf("%q is not a protocol and port: write tcp/443, udp/53, tcp, a port alone, or leave it empty for all traffic", s), s)
}

// AddDestination lets the group's members reach d.
func (s *Service) AddDestination(ctx context.Context, groupID int64, d Destination) error {
	if ok, err := groupExists(ctx, s.db, groupID); err != nil || !ok {
		if err != nil {
			return err
		}
		return errGroupNotFound(groupID)
	}
	d.Note = strings.TrimSpace(d.Note)
	if utf8.RuneCountInString(d.Note) > 200 {
		d.Note = string([]rune(d.Note)[:200])
	}
	if _, err := insertDestination(ctx, s.db, groupID, d); err != nil {
		if sqlite.IsUniqueViolation(err) {
			return rocca.Localized(rocca.ECONFLICT, "vpn.error.destination_exists", "the group has this destination already")
		}
		return fmt.Errorf("add destination: %w", err)
	}
	s.auditLog(ctx, "vpn.group.destination_add", map[string]any{"group": groupID, "destination": d.Prefix.String(), "proto": d.Proto, "port": int(d.Port)})
	s.syncFirewall(ctx)
	return nil
}

// RemoveDestination takes a destination away from a group.
func (s *Service) RemoveDestination(ctx context.Context, groupID, id int64) error {
	ok, err := deleteDestination(ctx, s.db, groupID, id)
	if err != nil {
		return err
	}
	if !ok {
		return rocca.Localized(rocca.ENOTFOUND, "vpn.error.destination_not_found", "this destination does not exist (any more)")
	}
	s.auditLog(ctx, "vpn.group.destination_remove", map[string]any{"group": groupID, "destination_id": id})
	s.syncFirewall(ctx)
	return nil
}

// AddMember puts the user with e-mail email into a group.
func (s *Service) AddMember(ctx context.Context, groupID int64, email string) error {
	u, err := s.users.UserByEmail(ctx, strings.TrimSpace(email))
	if err != nil {
		return err
	}
	if ok, err := groupExists(ctx, s.db, groupID); err != nil || !ok {
		if err != nil {
			return err
		}
		return errGroupNotFound(groupID)
	}
	if err := insertMember(ctx, s.db, groupID, u.ID); err != nil {
		if sqlite.IsUniqueViolation(err) {
			return rocca.Localized(rocca.ECONFLICT, "vpn.error.member_exists", fmt.Sprintf("%s is in this group already", u.Email), u.Email)
		}
		return fmt.Errorf("add member: %w", err)
	}
	s.auditLog(ctx, "vpn.group.member_add", map[string]any{"group": groupID, "user": u.Email})
	s.syncFirewall(ctx)
	return nil
}

// RemoveMember takes a user out of a group.
func (s *Service) RemoveMember(ctx context.Context, groupID, userID int64) error {
	ok, err := deleteMember(ctx, s.db, groupID, userID)
	if err != nil {
		return err
	}
	if !ok {
		return rocca.Localized(rocca.ENOTFOUND, "vpn.error.member_not_found", "this user is not in the group")
	}
	s.auditLog(ctx, "vpn.group.member_remove", map[string]any{"group": groupID, "user_id": userID})
	s.syncFirewall(ctx)
	return nil
}

// Settings returns the VPN policies.
func (s *Service) Settings(ctx context.Context) (Settings, error) {
	return loadSettings(ctx, s.db)
}

// UpdateSettings changes the VPN policies. A new preset applies to configurations delivered from
// now on and to the firewall at once.
func (s *Service) UpdateSettings(ctx context.Context, set Settings) error {
	if err := set.Validate(); err != nil {
		return err
	}
	if err := storeSettings(ctx, s.db, set, s.clock.Now()); err != nil {
		return err
	}
	s.auditLog(ctx, "vpn.settings.update", map[string]any{"preset": set.Preset, "self_service": set.SelfService,
		"max_devices": set.MaxDevices, "preshared_keys": set.UsePSK, "link_hours": set.LinkHours,
		"default_days": set.DefaultDays, "log_days": set.LogDays})
	s.syncFirewall(ctx)
	return nil
}
