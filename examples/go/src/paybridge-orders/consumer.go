package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log"
	"os"
	"os/signal"
	"syscall"

	amqp "github.com/rabbitmq/amqp091-go"
)

// The consumer (docs/integration.md, "Consuming events"): its own quorum queue bound to payments.outcomes, manual
// acks, a prefetch; each event goes through the inbox and the projection in one transaction and is acked after the
// commit. A poison message is rejected without requeue: it goes to the queue's dead-letter queue (<queue>.dead).
// SIGTERM/SIGINT: the message in hand is finished, the consumer cancelled, exit 0.

const (
	prefetch    = 50
	consumerTag = "orders-go"
)

func consume(db *sql.DB, s settings) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	conn, ch, err := dial(s.consumerURL, "consumer")
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := declare(ch, s.queue); err != nil {
		return err
	}
	if err := ch.Qos(prefetch, 0, false); err != nil {
		return err
	}
	deliveries, err := ch.Consume(s.queue, consumerTag, false, false, false, false, nil)
	if err != nil {
		return fmt.Errorf("consume %s: %w", s.queue, err)
	}
	fmt.Println("ready")
	for {
		if ctx.Err() != nil { // checked first: a signal wins over deliveries already waiting
			return shutdown(ch)
		}
		select {
		case <-ctx.Done():
			return shutdown(ch)
		case d, ok := <-deliveries:
			if !ok {
				return errors.New("the broker closed the consumer's channel")
			}
			if err := handle(db, d); err != nil {
				return err // unacked deliveries return to the queue when the connection closes
			}
		}
	}
}

// deliveryLimit: a message that keeps failing (a crash loop) is dead-lettered after this many deliveries.
const deliveryLimit = 20

// declare: the quorum queue, bound to payments.outcomes with `#`, dead-lettering to <queue>.dead (a fanout
// exchange and a quorum queue of that name: the consumer role may declare only consumer.* names).
func declare(ch *amqp.Channel, queue string) error {
	dead := queue + ".dead"
	quorum := amqp.Table{"x-queue-type": "quorum"}
	steps := []func() error{
		func() error { return ch.ExchangeDeclare(dead, "fanout", true, false, false, false, nil) },
		func() error { _, err := ch.QueueDeclare(dead, true, false, false, false, quorum); return err },
		func() error { return ch.QueueBind(dead, "", dead, false, nil) },
		func() error {
			_, err := ch.QueueDeclare(queue, true, false, false, false,
				amqp.Table{"x-queue-type": "quorum", "x-dead-letter-exchange": dead,
					"x-delivery-limit": int32(deliveryLimit)})
			return err
		},
		func() error { return ch.QueueBind(queue, "#", "payments.outcomes", false, nil) },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return fmt.Errorf("declare %s: %w", queue, err)
		}
	}
	return nil
}

func handle(db *sql.DB, d amqp.Delivery) error {
	e, err := parseEvent(d.Body)
	if err != nil {
		log.Printf("poison message (message_id %q, routing key %s) rejected to the dead-letter queue: %v",
			d.MessageId, d.RoutingKey, err)
		return d.Reject(false)
	}
	outcome, err := applyEvent(db, e, d.CorrelationId)
	if err != nil {
		return fmt.Errorf("event %s: %w", e.ID, err)
	}
	log.Printf("event %s %s: %s", e.ID, e.Type, outcome)
	return d.Ack(false)
}

func shutdown(ch *amqp.Channel) error {
	if err := ch.Cancel(consumerTag, false); err != nil {
		log.Printf("cancel: %v", err)
	}
	log.Printf("stopped")
	return nil
}
