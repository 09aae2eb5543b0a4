package mail

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// Run is the one delivery loop: it sends due messages one at a time until ctx is cancelled, then
// returns nil. At start every unsent message becomes due, including any left "sending" by a crash,
// which is sent again with the same Message-ID (see the package doc). A temporary failure waits
// 1, 2, 4 … minutes (±10%, at most an hour) before the next attempt; after GiveUpAfter, or at
// once on a permanent refusal, the message is marked failed for an admin to look at.
func (o *Outbox) Run(ctx context.Context) error {
	if !o.running.CompareAndSwap(false, true) {
		return errors.New("outbox: Run is already running")
	}
	defer o.running.Store(false)
	interrupted, err := o.requeueAtStart(ctx, o.now())
	if err != nil {
		return err
	}
	for _, id := range interrupted {
		o.logger.Warn("mail was being sent when Rocca stopped; sending it again with the same Message-ID", "id", id)
	}
	o.logger.Info("outbox started")
	for {
		wait := safetyPoll
		if err := o.deliverDue(ctx); err != nil {
			if ctx.Err() != nil {
				break
			}
			o.logger.Error("outbox", "err", err)
		} else if wait, err = o.untilNext(ctx); err != nil {
			o.logger.Error("outbox", "err", err)
		}
		if !o.sleep(ctx, wait) {
			break
		}
	}
	o.logger.Info("outbox stopped")
	return nil
}

// sleep waits for d, a Wake or the end of ctx; it reports false when ctx ended.
func (o *Outbox) sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-o.wake:
	case <-t.C:
	}
	return true
}

// untilNext is how long the loop may sleep: until the next queued message is due, at most safetyPoll
// (a guard against a caller that forgets Wake and against clock jumps).
func (o *Outbox) untilNext(ctx context.Context) (time.Duration, error) {
	next, ok, err := o.nextDue(ctx)
	if err != nil || !ok {
		return safetyPoll, err
	}
	return min(max(next.Sub(o.now()), 0), safetyPoll), nil
}

// deliverDue sends every message that is due, one at a time.
func (o *Outbox) deliverDue(ctx context.Context) error {
	for ctx.Err() == nil {
		m, err := o.claimDue(ctx, o.now())
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("claim mail: %w", err)
		}
		if err := o.deliver(ctx, m); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// deliver hands m to the sender and records the outcome.
func (o *Outbox) deliver(ctx context.Context, m *queued) error {
	log := o.logger.With("id", m.id, "message_id", m.messageID, "attempt", m.attempts)
	sendErr := o.sender.Send(ctx, Envelope{From: m.from, To: m.to}, m.raw)
	cancelled := ctx.Err() != nil
	// Record even when ctx ended meanwhile, so a clean stop leaves nothing in "sending".
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	now := o.now()
	var partial *PartialError
	var err error
	switch {
	case sendErr == nil:
		log.Info("mail sent")
		err = o.markSent(rctx, m.id, now, "")
	case IsPermanent(sendErr):
		log.Error("mail refused by the relay; marked failed", "err", sendErr)
		err = o.markFailed(rctx, m.id, sendErr.Error())
	case errors.As(sendErr, &partial):
		log.Warn("mail sent, but refused for some recipients", "err", sendErr)
		err = o.markSent(rctx, m.id, now, sendErr.Error())
	case cancelled:
		// The relay may or may not have it; like after a crash, it goes again at the next start.
		log.Info("mail sending interrupted by shutdown", "err", sendErr)
		err = o.markRetry(rctx, m.id, now, "interrupted by shutdown: "+sendErr.Error())
	case !now.Before(m.giveUpAt):
		log.Error("mail not accepted for too long; marked failed", "err", sendErr)
		err = o.markFailed(rctx, m.id, fmt.Sprintf("gave up after %v: %v", GiveUpAfter, sendErr))
	default:
		next := now.Add(backoff(m.attempts))
		log.Warn("mail not sent; will retry", "err", sendErr, "next_attempt", next)
		err = o.markRetry(rctx, m.id, next, sendErr.Error())
	}
	if err != nil {
		// The row stays "sending": the next start sends it again (at-least-once).
		return fmt.Errorf("record outcome of mail %d: %w", m.id, err)
	}
	return nil
}

// backoff is the wait after the n-th failed attempt: 1m, 2m, 4m … with ±10% jitter so that
// messages that failed together do not all retry together, never more than maxRetry.
func backoff(n int) time.Duration {
	d := firstRetry
	for i := 1; i < n && d < maxRetry; i++ {
		d *= 2
	}
	d = min(d, maxRetry)
	jitter := time.Duration(rand.Int64N(int64(d/5)+1)) - d/10
	return min(d+jitter, maxRetry)
}
