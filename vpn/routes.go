package vpn

import (
	"context"
	"net/http"

	"github.com/rocca-pa/rocca"
)

// Routes registers the pages and the JSON API on the web server. require is auth.Require:
// require("") lets any signed-in user through, require(rocca.RoleAdmin) administrators only. The
// one-time link pages need no sign-in: the token is the credential.
//
//	GET  /vpn/devices                         "I miei dispositivi"
//	POST /vpn/devices                         create a device (self-service policy)
//	POST /vpn/devices/{id}/rekey              download again: a new key pair
//	POST /vpn/devices/{id}/link               a one-time link (optionally e-mailed)
//	POST /vpn/devices/{id}/revoke             revoke an own device
//	GET  /vpn/devices/{id}/config             the .conf of a device with the owner's own key
//	GET  /vpn/link/{token}                    one-time link: instructions
//	POST /vpn/link/{token}                    one-time link: the configuration, once
//	GET  /admin/vpn                           network, status and policies
//	POST /admin/vpn/settings                  change the policies
//	GET  /admin/vpn/groups                    groups, destinations, members
//	POST /admin/vpn/groups[/{id}/...]         create/delete groups, destinations, members
//	GET  /admin/vpn/devices                   all devices with their status
//	POST /admin/vpn/devices[/{id}/revoke|link] create for a user, revoke, link
//	GET  /admin/vpn/log                       connection log
//	GET  /api/vpn/status, /api/vpn/peers      (admin) JSON
//	POST /api/vpn/peers, /api/vpn/peers/{id}/revoke
//	GET  /api/vpn/devices, POST /api/vpn/devices, POST /api/vpn/devices/{id}/revoke   (own devices)
//
// When h also takes readiness checks (web.Server's AddReadyCheck) and the service drives an
// interface, Ready is added as the check "vpn" of /readyz.
func (s *Service) Routes(h interface {
	Handle(pattern string, h http.Handler)
}, require func(rocca.Role) func(http.Handler) http.Handler) {
	if r, ok := h.(interface {
		AddReadyCheck(name string, check func(context.Context) error)
	}); ok && s.open != nil {
		r.AddReadyCheck("vpn", s.Ready)
	}
	anyUser, admin := require(""), require(rocca.RoleAdmin)
	f := func(fn http.HandlerFunc) http.Handler { return fn }

	h.Handle("GET /vpn/devices", anyUser(f(s.devicesList)))
	h.Handle("POST /vpn/devices", anyUser(f(s.devicesCreate)))
	h.Handle("POST /vpn/devices/{id}/rekey", anyUser(f(s.devicesRekey)))
	h.Handle("POST /vpn/devices/{id}/link", anyUser(f(s.devicesLink)))
	h.Handle("POST /vpn/devices/{id}/revoke", anyUser(f(s.devicesRevoke)))
	h.Handle("GET /vpn/devices/{id}/config", anyUser(f(s.devicesDownload)))

	h.Handle("GET /vpn/link/{token}", f(s.linkShow))
	h.Handle("POST /vpn/link/{token}", f(s.linkSubmit))

	h.Handle("GET /admin/vpn", admin(f(s.adminNetworkShow)))
	h.Handle("POST /admin/vpn/settings", admin(f(s.adminSettingsUpdate)))
	h.Handle("GET /admin/vpn/groups", admin(f(s.adminGroupsList)))
	h.Handle("POST /admin/vpn/groups", admin(f(s.adminGroupsCreate)))
	h.Handle("POST /admin/vpn/groups/{id}/delete", admin(f(s.adminGroupsDelete)))
	h.Handle("POST /admin/vpn/groups/{id}/destinations", admin(f(s.adminDestinationsAdd)))
	h.Handle("POST /admin/vpn/groups/{id}/destinations/{did}/delete", admin(f(s.adminDestinationsDelete)))
	h.Handle("POST /admin/vpn/groups/{id}/members", admin(f(s.adminMembersAdd)))
	h.Handle("POST /admin/vpn/groups/{id}/members/{uid}/delete", admin(f(s.adminMembersDelete)))
	h.Handle("GET /admin/vpn/devices", admin(f(s.adminDevicesList)))
	h.Handle("POST /admin/vpn/devices", admin(f(s.adminDevicesCreate)))
	h.Handle("POST /admin/vpn/devices/{id}/revoke", admin(f(s.adminDevicesRevoke)))
	h.Handle("POST /admin/vpn/devices/{id}/link", admin(f(s.adminDevicesLink)))
	h.Handle("GET /admin/vpn/log", admin(f(s.adminLogList)))

	h.Handle("GET /api/vpn/status", admin(f(s.apiStatusShow)))
	h.Handle("GET /api/vpn/peers", admin(f(s.apiPeersList)))
	h.Handle("POST /api/vpn/peers", admin(f(s.apiPeersCreate)))
	h.Handle("POST /api/vpn/peers/{id}/revoke", admin(f(s.apiPeersRevoke)))
	h.Handle("GET /api/vpn/devices", anyUser(f(s.apiDevicesList)))
	h.Handle("POST /api/vpn/devices", anyUser(f(s.apiDevicesCreate)))
	h.Handle("POST /api/vpn/devices/{id}/revoke", anyUser(f(s.apiDevicesRevoke)))
}
