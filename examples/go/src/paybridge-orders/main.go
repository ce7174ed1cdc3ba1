// Command paybridge-orders is the Go reference order service of examples/README.md: it places orders through an
// outbox, relays the outbox to PayBridge, asks PayBridge for FirstPay's payment methods, consumes PayBridge's
// events into an inbox and a status projection, and prints an order's status.
package main

import (
	"errors"
	"fmt"
	"os"
)

const usage = `usage:
  run place purchase|payin|failing ORDER AMOUNT
  run relay
  run consume
  run status ORDER`

// Exit codes: 0 done, 1 failed, 2 bad usage, 3 relay: a row was returned or nacked (it stays unsent).
const exitReturned = 3

// maxBody bounds every message body read from the broker before it is parsed.
const maxBody = 1 << 20

type settings struct {
	db, producerURL, consumerURL, queue, wallet string
}

func env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok && v != "" {
		return v
	}
	return def
}

func loadSettings() settings {
	return settings{
		db:          env("EXAMPLE_DB", "./orders.db"),
		producerURL: env("PAYBRIDGE_PRODUCER_URL", "amqp://guest:guest@127.0.0.1:5672/%2F"),
		consumerURL: env("PAYBRIDGE_CONSUMER_URL", "amqp://guest:guest@127.0.0.1:5672/%2F"),
		queue:       env("EXAMPLE_QUEUE", "consumer.orders-go.payments"),
		wallet:      env("EXAMPLE_WALLET", "01712345678"),
	}
}

type usageError string

func (e usageError) Error() string { return string(e) }

func main() {
	err := run(os.Args[1:], loadSettings())
	var u usageError
	var r returnedError
	switch {
	case err == nil:
	case errors.As(err, &u):
		fmt.Fprintf(os.Stderr, "%s\n%s\n", u, usage)
		os.Exit(2)
	case errors.As(err, &r):
		fmt.Fprintln(os.Stderr, "relay:", r)
		os.Exit(exitReturned)
	default:
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func run(args []string, s settings) error {
	if len(args) == 0 {
		return usageError("no command")
	}
	cmd, args := args[0], args[1:]
	want := map[string]int{"place": 3, "relay": 0, "consume": 0, "status": 1}
	n, ok := want[cmd]
	if !ok {
		return usageError("unknown command " + cmd)
	}
	if len(args) != n {
		return usageError(fmt.Sprintf("%s takes %d arguments", cmd, n))
	}
	db, err := openDB(s.db)
	if err != nil {
		return err
	}
	defer db.Close()
	switch cmd {
	case "place":
		return place(db, s, args[0], args[1], args[2])
	case "relay":
		return relay(db, s)
	case "consume":
		return consume(db, s)
	default:
		return printStatus(db, args[0])
	}
}
