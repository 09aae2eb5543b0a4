package vpn

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// newLinkToken returns 32 random bytes (256 bits) in URL-safe base64.
func newLinkToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("link token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// linkHash is what the database keeps of a token.
func linkHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// insertLink stores a link for a device, replacing the device's earlier unused links.
func insertLink(ctx context.Context, q querier, token string, peerID int64, now, expires time.Time) error {
	if _, err := q.ExecContext(ctx, `DELETE FROM vpn_links WHERE peer_id = ? AND used_at IS NULL`, peerID); err != nil {
		return fmt.Errorf("replace links: %w", err)
	}
	if _, err := q.ExecContext(ctx, `INSERT INTO vpn_links (hash, peer_id, created_at, expires_at) VALUES (?, ?, ?, ?)`,
		linkHash(token), peerID, unix(now), unix(expires)); err != nil {
		return fmt.Errorf("store link: %w", err)
	}
	return nil
}

// linkState tells a live link apart from a used, expired or unknown one.
type linkState int

const (
	linkUnknown linkState = iota
	linkLive
	linkGone // used or expired
)

// checkLink looks at a link without using it.
func checkLink(ctx context.Context, q querier, token string, now time.Time) (linkState, int64, error) {
	var peerID, expires int64
	var used *int64
	err := q.QueryRowContext(ctx, `SELECT peer_id, expires_at, used_at FROM vpn_links WHERE hash = ?`, linkHash(token)).Scan(&peerID, &expires, &used)
	if err != nil {
		if isNoRows(err) {
			return linkUnknown, 0, nil
		}
		return linkUnknown, 0, fmt.Errorf("check link: %w", err)
	}
	if used != nil || unix(now) >= expires {
		return linkGone, peerID, nil
	}
	return linkLive, peerID, nil
}

// claimLink marks the link used if it is live, in one conditional UPDATE: of any number of
// concurrent callers exactly one sees true.
func claimLink(ctx context.Context, q querier, token string, now time.Time) (bool, error) {
	res, err := q.ExecContext(ctx, `UPDATE vpn_links SET used_at = ? WHERE hash = ? AND used_at IS NULL AND expires_at > ?`,
		unix(now), linkHash(token), unix(now))
	if err != nil {
		return false, fmt.Errorf("use link: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("use link: %w", err)
	}
	return n == 1, nil
}

// purgeLinks removes links that can no longer be used and are older than before.
func purgeLinks(ctx context.Context, q querier, before time.Time) error {
	_, err := q.ExecContext(ctx, `DELETE FROM vpn_links WHERE expires_at < ? OR used_at < ?`, unix(before), unix(before))
	if err != nil {
		return fmt.Errorf("purge links: %w", err)
	}
	return nil
}

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }
