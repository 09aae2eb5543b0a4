package auth

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/rocca-pa/rocca"
)

// AuditEntry is one line of the audit log.
type AuditEntry struct {
	ID      int64          `json:"id"`
	At      time.Time      `json:"at"`
	Actor   string         `json:"actor"`              // e-mail, or "system", "cli", "anonymous"
	ActorID int64          `json:"actor_id,omitempty"` // the user's id when the actor is a user
	Action  string         `json:"action"`
	Detail  map[string]any `json:"detail,omitempty"`
	IP      string         `json:"ip,omitempty"`
}

// Audit appends an entry for action. The actor is the signed-in user of ctx, else the actor set
// with WithActor, else "system"; the IP is the one Middleware or WithRemoteIP put in ctx. Values
// under keys that name secrets (password, token, secret, session, code) are replaced unless they
// are booleans or numbers, so a careless caller cannot write a secret into the log.
func (s *Service) Audit(ctx context.Context, action string, detail map[string]any) error {
	actor, id := "system", int64(0)
	if u := rocca.UserFromContext(ctx); u != nil {
		actor, id = u.Email, u.ID
	} else if a, ok := ctx.Value(actorKey).(string); ok && a != "" {
		actor = a
	}
	return s.auditAs(ctx, actor, id, action, detail)
}

// auditAs appends an entry with an explicit actor, for events where nobody is signed in yet
// (logins, first-run setup). Failures are logged here and returned.
func (s *Service) auditAs(ctx context.Context, actor string, actorID int64, action string, detail map[string]any) error {
	body, err := json.Marshal(redact(detail))
	if err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	var aid any
	if actorID > 0 {
		aid = actorID
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO audit_log (at, actor, actor_id, action, detail, ip) VALUES (?, ?, ?, ?, ?, ?)`,
		unix(s.now()), actor, aid, action, string(body), remoteIPFrom(ctx))
	if err != nil {
		s.logger.Error("audit entry not written", "action", action, "actor", actor, "err", err)
		return fmt.Errorf("audit %s: %w", action, err)
	}
	return nil
}

func redact(detail map[string]any) map[string]any {
	out := make(map[string]any, len(detail))
	for k, v := range detail {
		out[k] = v
		if !secretKey(k) {
			continue
		}
		switch v.(type) {
		case bool, int, int64, float64:
		default:
			out[k] = "[redacted]"
		}
	}
	return out
}

func secretKey(k string) bool {
	k = strings.ToLower(k)
	for _, w := range []string{"password", "token", "secret", "session", "code", "hash"} {
		if strings.Contains(k, w) {
			return true
		}
	}
	return false
}

// AuditLog returns up to limit entries older than the entry with id before (0 = from the newest),
// newest first.
func (s *Service) AuditLog(ctx context.Context, limit int, before int64) ([]AuditEntry, error) {
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	q := `SELECT id, at, actor, coalesce(actor_id, 0), action, detail, ip FROM audit_log`
	args := []any{}
	if before > 0 {
		q += ` WHERE id < ?`
		args = append(args, before)
	}
	q += ` ORDER BY id DESC LIMIT ?`
	args = append(args, limit)
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	defer rows.Close()
	var entries []AuditEntry
	for rows.Next() {
		var e AuditEntry
		var at int64
		var detail string
		if err := rows.Scan(&e.ID, &at, &e.Actor, &e.ActorID, &e.Action, &detail, &e.IP); err != nil {
			return nil, fmt.Errorf("audit log: %w", err)
		}
		e.At = fromUnix(at)
		if err := json.Unmarshal([]byte(detail), &e.Detail); err != nil {
			e.Detail = map[string]any{"raw": detail}
		}
		entries = append(entries, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	return entries, nil
}
