// Package sfu is the media engine of meetings: a selective forwarding unit built on Pion WebRTC v4.
//
// It owns the WebRTC side of a meeting and nothing else: one PeerConnection per participant, the
// fan-out of every published track to every other participant of the room, simulcast layer choice
// per subscriber (from the send-side bandwidth estimate, a bitrate cap and the tile size the client
// asks for), keyframe requests (PLI/FIR from subscribers forwarded to the publisher as PLI, at most
// one per layer every 500 ms), NACK/RTX, transport-wide congestion control (GCC over transport-cc
// feedback) and RTCP reports through Pion interceptors, active-speaker detection from the RFC 6464
// audio level, and the transport: all media on one UDP port (ICE UDP mux) with ICE-TCP on the
// same port number, an optional 1:1 NAT public address, and an embedded TURN server (UDP, TCP and
// optional TLS) that accepts short-lived REST-style HMAC credentials and relays only to this host.
//
// It knows no SQL, no HTTP, no users and no signalling transport. The conferencing package owns
// rooms, permissions and the WebSocket, and drives this package through a small Go API:
//
//	s, err := sfu.New(cfg, logger)             // one per process; s.Close() on shutdown
//	room, err := s.Room("meeting-42")          // created on first use; room.Close() ends it
//	p, err := room.Join("alice", events, sfu.JoinOptions{NoPublish: false})
//	p.HandleOffer(ctx, offer)                  // the client always makes the first offer
//	p.HandleAnswer(ctx, answer)                // answers to the SFU's own offers
//	p.AddICECandidate(ctx, candidate)          // trickle ICE from the client
//	p.SetMaxBitrate(bps)                       // bandwidth cap for what p receives
//	p.SetPreferredLayer(pub, track, "h")       // tile-size cap: "q", "h", "f" or "" for none
//	p.Subscribe(pub, track) / p.Unsubscribe(pub, track)
//	p.SetMuted(webrtc.RTPCodecTypeAudio, true) // moderator mute: forwarding stops at the server
//	p.RestartICE(); p.Close()
//	user, pass, urls := s.TURNCredentials("alice", 10*time.Minute) // ICE servers for the client
//
// Everything the SFU has to tell the client arrives, in order, through the Events interface given
// to Join: local descriptions (the answer to each client offer, and the SFU's own offers), ICE
// candidates (always after the description that started gathering), tracks added (before the
// offer that carries them) and removed, the active speaker, statistics every 2 s (selected
// candidate pair, bandwidth estimate, per-track bitrate, loss and time of the last packet
// received, which tells whether a publisher is live) and the connection state. Events come from
// one goroutine per participant, so an Events method may call the Participant's methods; it should
// not block for long, since events queue up meanwhile.
//
// Tracks reach a subscriber with the msid stream id set to the publisher id (made SDP-safe) and
// are announced with the transceiver mid, which is how the client tells whose track is whose.
// Simulcast publishers should name their encodings "q", "h" and "f" (low to high); other rids are
// ranked in SDP order.
//
// Negotiation follows "perfect negotiation" with the SFU as the impolite peer: the client makes the
// first offer after joining (a receive-only client offers a recvonly transceiver); only then does
// the SFU add the tracks of the others and send its own offers, one at a time, when tracks come
// and go. A client offer that crosses an SFU offer is refused with a rocca.ECONFLICT error; the
// client (polite) rolls back, answers the SFU's offer, and offers again.
//
// Concurrency: one goroutine loop owns each participant's state; Pion callbacks and API calls reach
// it only as commands on its mailbox. Media does not go through the loop: one goroutine per
// published track and simulcast layer reads RTP and writes it to the subscribers' tracks without
// allocating, through a copy-on-write list of subscribers. These writers do not queue behind each
// other: the congestion controller's pacer (pacer.go) sends at once and holds no lock across the
// write, and on Linux the media port's sockets send with sendto(2) directly rather than through
// the net package's per-socket write lock (mediaconn.go). Rooms live until Room.Close or
// SFU.Close; closing the last participant does not close the room.
//
// Recording: room.StartRecording(dir) writes every published Opus and VP8 track (those present
// and those published later) to its own WebM file in dir, without transcoding; rec, err :=
// room.StopRecording() closes them, writes manifest.json (each file's participant, track,
// segment, and start and end offsets on the recording's time line) and returns every file with
// its SHA-256. A publisher who reconnects gets a new segment file. Simulcast video is recorded
// from the highest layer that is sending. The forwarding path only copies each packet into a
// pooled buffer and queues it, without blocking, for one recorder goroutine per track, which
// reorders, depacketizes and writes. The format is in docs/recording.md.
//
// Only conferencing and cmd/rocca may import this package.
package sfu
