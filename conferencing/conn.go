package conferencing

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/internal/i18n"
)

// WebSocket timing and buffering.
const (
	joinWait     = 15 * time.Second // the first message (join) must arrive within this
	pongWait     = 30 * time.Second // silence after which the connection counts as dead
	pingInterval = 10 * time.Second
	writeWait    = 10 * time.Second
	closeLinger  = 5 * time.Second // how long a closing server waits for the client's close frame
	sendQueue    = 256             // messages waiting for the writer; a client that lets it fill is dropped
)

// Close codes (RFC 6455).
const (
	closeNormal    = websocket.CloseNormalClosure
	closeGoingAway = websocket.CloseGoingAway
	closePolicy    = websocket.ClosePolicyViolation
	closeTooBig    = websocket.CloseMessageTooBig
)

// conn is one signalling WebSocket. The handler goroutine reads; one writer goroutine owns every
// write, fed by the send queue, so that nothing another participant does ever blocks on this
// client's network.
type conn struct {
	ws   *websocket.Conn
	log  *slog.Logger
	cat  *i18n.Catalog
	lang string
	send chan []byte

	once      sync.Once
	done      chan struct{} // closed by close: the writer says goodbye and ends
	closeCode int
	closeText string
	writerEnd chan struct{}
	readerEnd chan struct{} // closed when readMessages returns
}

func newConn(ws *websocket.Conn, log *slog.Logger, cat *i18n.Catalog, lang string) *conn {
	c := &conn{ws: ws, log: log, cat: cat, lang: lang, send: make(chan []byte, sendQueue),
		done: make(chan struct{}), writerEnd: make(chan struct{}), readerEnd: make(chan struct{})}
	go c.writeLoop()
	return c
}

// sendJSON queues v. It never blocks: a client too slow to keep up is disconnected instead.
func (c *conn) sendJSON(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		c.log.Error("encode signalling message", "err", err)
		return
	}
	c.sendRaw(b)
}

func (c *conn) sendRaw(b []byte) {
	select {
	case <-c.done:
		return
	default:
	}
	select {
	case c.send <- b:
	default:
		c.log.Warn("signalling client too slow: disconnected")
		c.close(closePolicy, "too slow")
	}
}

// sendError tells the client why its message (of type ref) failed.
func (c *conn) sendError(err error, ref string) {
	c.sendJSON(c.errorMsg(err, ref))
}

func (c *conn) errorMsg(err error, ref string) errorMsg {
	var e *rocca.Error
	code := rocca.ErrorCodeOf(err)
	if !errors.As(err, &e) || e.Key == "" || code == rocca.EINTERNAL {
		if code == rocca.EINTERNAL {
			c.log.Error("signalling failed", "ref", ref, "err", err)
		}
		return errorMsg{head: hd("error"), Code: string(code), Reason: string(code), Ref: ref,
			Message: c.cat.T(c.lang, "conf.error.internal")}
	}
	return errorMsg{head: hd("error"), Code: string(code), Reason: strings.TrimPrefix(e.Key, "conf.error."),
		Message: c.cat.T(c.lang, e.Key, e.Args...), Ref: ref}
}

// fail sends err and then closes the connection with code.
func (c *conn) fail(err error, ref string, code int) {
	c.sendError(err, ref)
	msg := c.errorMsg(err, ref)
	c.close(code, msg.Reason)
}

// close ends the connection: queued messages are written first, then a close frame.
func (c *conn) close(code int, text string) {
	c.once.Do(func() {
		c.closeCode, c.closeText = code, text
		close(c.done)
	})
}

// closed reports whether close was called.
func (c *conn) closed() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

func (c *conn) writeLoop() {
	defer close(c.writerEnd)
	defer c.ws.Close() // unblocks the reader
	ping := time.NewTicker(pingInterval)
	defer ping.Stop()
	for {
		select {
		case b := <-c.send:
			if !c.write(b) {
				c.close(closeGoingAway, "write failed")
				return
			}
		case <-ping.C:
			if err := c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(writeWait)); err != nil {
				c.close(closeGoingAway, "ping failed")
				return
			}
		case <-c.done:
			if c.drain() {
				_ = c.ws.WriteControl(websocket.CloseMessage,
					websocket.FormatCloseMessage(c.closeCode, c.closeText), time.Now().Add(time.Second))
				c.linger()
			}
			return
		}
	}
}

// linger keeps the socket open until the reader has seen the client's close frame (or a short
// while): closing it with the client's messages still unread makes the kernel reset the
// connection, and a reset destroys the last messages (the reason for the close) before the
// client reads them.
func (c *conn) linger() {
	// Half-close first: the client reads everything up to the end of the stream even if the
	// wait below runs out.
	if hc, ok := c.ws.NetConn().(interface{ CloseWrite() error }); ok {
		_ = hc.CloseWrite()
	}
	t := time.NewTimer(closeLinger)
	defer t.Stop()
	select {
	case <-c.readerEnd:
	case <-t.C:
	}
}

// drain writes what is still queued (the goodbye, the last error); false if writing failed.
func (c *conn) drain() bool {
	for {
		select {
		case b := <-c.send:
			if !c.write(b) {
				return false
			}
		default:
			return true
		}
	}
}

func (c *conn) write(b []byte) bool {
	_ = c.ws.SetWriteDeadline(time.Now().Add(writeWait))
	return c.ws.WriteMessage(websocket.TextMessage, b) == nil
}

// readMessages hands each message of the client to handle until the connection ends, handle
// returns false, or a message is too large. Until joined() the client has joinWait to join;
// afterwards every message or pong keeps the connection alive for pongWait.
func (c *conn) readMessages(joined func() bool, handle func([]byte) bool) {
	defer close(c.readerEnd)
	ws := c.ws
	_ = ws.SetReadDeadline(time.Now().Add(joinWait))
	ws.SetPongHandler(func(string) error { return ws.SetReadDeadline(time.Now().Add(pongWait)) })
	for !c.closed() {
		typ, rd, err := ws.NextReader()
		if err != nil {
			return
		}
		b, err := io.ReadAll(io.LimitReader(rd, MaxMessageSize+1))
		if err != nil {
			return
		}
		if joined() {
			_ = ws.SetReadDeadline(time.Now().Add(pongWait))
		}
		if len(b) > MaxMessageSize {
			c.fail(errTooLarge(), "", closeTooBig)
			break
		}
		if typ != websocket.TextMessage {
			b = nil // binary frames are malformed JSON
		}
		if !handle(b) {
			break
		}
	}
	// The server is closing: read and discard until the client's close frame (see linger).
	_ = ws.SetReadDeadline(time.Now().Add(closeLinger))
	for {
		if _, _, err := ws.NextReader(); err != nil {
			return
		}
	}
}

// fault reports a client mistake; too many of them (beyond what faults allows) end the
// connection.
func (c *conn) fault(faults *bucket, err error, ref string) bool {
	if !faults.take(time.Now()) {
		c.fail(rocca.Localized(rocca.EINVALID, "conf.error.too_many_errors", "too many bad messages"), ref, closePolicy)
		return false
	}
	c.sendError(err, ref)
	return true
}

// refuseJoin ends a connection whose join was refused, with the reason; a server that cannot take
// people now (restarting) says "going away" so that the client retries.
func (c *conn) refuseJoin(err error, logMsg string) {
	code := closeNormal
	if rocca.ErrorCodeOf(err) == rocca.EUNAVAILABLE {
		code = closeGoingAway
	}
	c.log.Info(logMsg, "err", err)
	c.fail(err, TypeJoin, code)
}
