package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// The relay publishes unsent outbox rows to payments.commands, `mandatory`, with publisher confirms, and marks a
// row sent only once the broker confirmed it (docs/integration.md, "Publishing commands"). A returned row
// (no queue bound for its routing key) or a nacked one stays unsent and is reported; the relay then exits 3.

const (
	relayBatch   = 500
	relayTimeout = 30 * time.Second
)

type returnedError struct{ returned, nacked int }

func (e returnedError) Error() string {
	return fmt.Sprintf("%d returned and %d nacked rows stay unsent", e.returned, e.nacked)
}

type outboxRow struct {
	seq            int64
	id, routingKey string
	body           []byte
}

func relay(db *sql.DB, s settings) error {
	conn, ch, err := dial(s.producerURL, "relay")
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := ch.Confirm(false); err != nil {
		return err
	}
	// The broker sends a message's basic.return before its basic.ack, and the client hands both over in that
	// order: once a confirm is in, a return for that message is already in `returns`.
	confirms := ch.NotifyPublish(make(chan amqp.Confirmation, relayBatch))
	returns := ch.NotifyReturn(make(chan amqp.Return, relayBatch))
	closed := ch.NotifyClose(make(chan *amqp.Error, 1))
	var failed returnedError
	var after int64
	for {
		rows, err := unsentRows(db, after)
		if err != nil || len(rows) == 0 {
			return finish(err, failed)
		}
		after = rows[len(rows)-1].seq
		sent, err := publishBatch(ch, rows, confirms, returns, closed, &failed)
		if err != nil {
			return err
		}
		if err := markSent(db, sent); err != nil {
			return err
		}
		for _, id := range sent {
			fmt.Println("sent", id)
		}
	}
}

func finish(err error, failed returnedError) error {
	if err == nil && failed.returned+failed.nacked > 0 {
		return failed
	}
	return err
}

func unsentRows(db *sql.DB, after int64) ([]outboxRow, error) {
	rs, err := db.Query(`SELECT seq, command_id, routing_key, body FROM outbox WHERE sent_at IS NULL AND seq > ?
		ORDER BY seq LIMIT ?`, after, relayBatch)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var rows []outboxRow
	for rs.Next() {
		var r outboxRow
		if err := rs.Scan(&r.seq, &r.id, &r.routingKey, &r.body); err != nil {
			return nil, err
		}
		rows = append(rows, r)
	}
	return rows, rs.Err()
}

// publishBatch publishes rows and waits for every confirm; it returns the ids confirmed and not returned.
func publishBatch(ch *amqp.Channel, rows []outboxRow, confirms <-chan amqp.Confirmation, returns <-chan amqp.Return,
	closed <-chan *amqp.Error, failed *returnedError) ([]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), relayTimeout)
	defer cancel()
	first := ch.GetNextPublishSeqNo()
	for _, r := range rows {
		err := ch.PublishWithContext(ctx, "payments.commands", r.routingKey, true, false, amqp.Publishing{
			DeliveryMode: amqp.Persistent, ContentType: "application/cloudevents+json", MessageId: r.id,
			Timestamp: time.Now(), Body: r.body})
		if err != nil {
			return nil, fmt.Errorf("publish %s: %w", r.id, err)
		}
	}
	acked := map[string]bool{}
	for range rows {
		select {
		case c, ok := <-confirms:
			if !ok {
				return nil, fmt.Errorf("channel closed before every confirm arrived: %v", <-closed)
			}
			i := c.DeliveryTag - first
			if c.DeliveryTag < first || i >= uint64(len(rows)) {
				return nil, fmt.Errorf("confirm for delivery tag %d, not one of this batch's", c.DeliveryTag)
			}
			acked[rows[i].id] = c.Ack
		case e := <-closed:
			return nil, fmt.Errorf("channel closed before every confirm arrived: %v", e)
		case <-ctx.Done():
			return nil, fmt.Errorf("no confirm within %s: rows stay unsent", relayTimeout)
		}
	}
	returned := map[string]bool{}
	for len(returns) > 0 {
		r := <-returns
		returned[r.MessageId] = true
		fmt.Fprintf(os.Stderr, "returned %s: %d %s (routing key %s; is PayBridge's topology declared?)\n",
			r.MessageId, r.ReplyCode, r.ReplyText, r.RoutingKey)
	}
	var sent []string
	for _, r := range rows {
		switch {
		case returned[r.id]:
			failed.returned++
		case !acked[r.id]:
			failed.nacked++
			fmt.Fprintf(os.Stderr, "nacked %s: stays unsent\n", r.id)
		default:
			sent = append(sent, r.id)
		}
	}
	return sent, nil
}

func markSent(db *sql.DB, ids []string) error {
	tx, err := db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	now := nowRFC3339()
	for _, id := range ids {
		if _, err := tx.Exec(`UPDATE outbox SET sent_at = ? WHERE command_id = ?`, now, id); err != nil {
			return err
		}
	}
	return tx.Commit()
}
