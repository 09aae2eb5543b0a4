// The signalling WebSocket (protocol: docs/signalling.md). One instance is one connection; the
// meeting controller makes a new one to reconnect.

export const PROTOCOL_VERSION = 1;

export class Signal {
  constructor(path, onMessage, onClose) {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    this.url = `${scheme}//${location.host}${path}`;
    this.onMessage = onMessage;
    this.onClose = onClose;
    this.ws = null;
    this.closedByUs = false;
  }

  // open resolves once the connection is up, and rejects if it cannot be made.
  open() {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(this.url);
      this.ws = ws;
      let opened = false;
      ws.onopen = () => { opened = true; resolve(); };
      ws.onerror = () => { if (!opened) reject(new Error("websocket failed")); };
      ws.onmessage = (ev) => {
        let msg;
        try { msg = JSON.parse(ev.data); } catch { return; }
        if (msg && msg.v === PROTOCOL_VERSION) this.onMessage(msg);
      };
      ws.onclose = (ev) => {
        if (!opened) { reject(new Error("websocket closed")); return; }
        if (!this.closedByUs) this.onClose(ev);
      };
    });
  }

  send(msg) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify({ v: PROTOCOL_VERSION, ...msg }));
    }
  }

  get isOpen() { return this.ws && this.ws.readyState === WebSocket.OPEN; }

  close() {
    this.closedByUs = true;
    if (this.ws) this.ws.close(1000);
  }
}
