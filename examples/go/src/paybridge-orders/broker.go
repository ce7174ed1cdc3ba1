package main

import (
	"fmt"

	amqp "github.com/rabbitmq/amqp091-go"
)

// dial opens a connection named `orders-go <purpose>` (the name shows in the broker's management views) and one
// channel on it. The caller closes the connection, which closes the channel.
func dial(url, purpose string) (*amqp.Connection, *amqp.Channel, error) {
	conn, err := amqp.DialConfig(url, amqp.Config{Properties: amqp.Table{"connection_name": "orders-go " + purpose}})
	if err != nil {
		return nil, nil, fmt.Errorf("broker: %w", err)
	}
	ch, err := conn.Channel()
	if err != nil {
		conn.Close()
		return nil, nil, err
	}
	return conn, ch, nil
}
