// Package conferencing owns meetings: scheduled meetings and their join links, hosts, invitees and
// invitations (e-mail with an .ics through the outbox), participants and their roles and
// permissions, the lobby, the live rooms and their moderator controls, the short-lived join tokens,
// the WebSocket signalling (protocol documented in docs/signalling.md) that drives the media engine
// in conferencing/sfu, the meeting pages, the browser client's assets (conferencing/client) and the
// meeting metrics. Its tables are prefixed conf_ and only this package writes them.
//
// Council sessions build on the same rooms: a council meeting has a setup (President, Secretary,
// seats, agenda, quorum rule, public or closed; council_*.go, conf_council* tables) and, while
// open, a council.Session driven from the live room (presence from the SFU's statistics, the
// "council" signalling messages), the recording through the SFU, and the minutes draft served
// from the sealed record. Public sessions are streamed to citizens without login on a separate
// address (/pubblico/{stream}, public_*.go) that closes within 2 s when the session turns closed.
//
// It sees users only as rocca.User in the request context and reaches other parts through small
// interfaces it declares (Mailer, Users); cmd/rocca builds the Service, mounts Routes and
// AdminRoutes, registers Collector, and calls Close before closing the SFU. Only cmd/rocca imports
// this package.
package conferencing
