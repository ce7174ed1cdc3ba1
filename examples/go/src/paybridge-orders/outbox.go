package main

import (
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"fmt"
	"regexp"
	"time"
)

// docs/integration.md, "Publishing commands": CloudEvents 1.0 in structured JSON mode, a fresh command id, amounts
// as decimal strings, data in the provider's own field names. The order row and its command are written in one
// transaction; the relay publishes the command later.

const source = "/orders/orders-go"

var amountPattern = regexp.MustCompile(`^(0\.(0[1-9]|[1-9][0-9]?)|[1-9][0-9]*(\.[0-9]{1,2})?)$`)

type cloudEvent struct {
	SpecVersion     string      `json:"specversion"`
	ID              string      `json:"id"`
	Type            string      `json:"type"`
	Source          string      `json:"source"`
	Time            string      `json:"time"`
	DataContentType string      `json:"datacontenttype"`
	Data            interface{} `json:"data"`
}

type purchaseData struct {
	PaymentID     string `json:"paymentId"`
	Amount        string `json:"amount"`
	Currency      string `json:"currency"`
	CustomerEmail string `json:"customerEmail"`
	Account       string `json:"account,omitempty"`
}

type fieldValue struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

type payInData struct {
	AccountID          int64        `json:"accountId"`
	PaymentMethodID    string       `json:"paymentMethodId"`
	Amount             string       `json:"amount"`
	ClientFieldsValues []fieldValue `json:"clientFieldsValues"`
	MerchantPaymentID  string       `json:"merchantPaymentId"`
	MerchantUserID     string       `json:"merchantUserId"`
}

// command is what one order sends: routing key <provider>.<operation>, its event type, its data.
type command struct {
	provider, operation, account string
	data                         interface{}
}

func newID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func nowRFC3339() string { return time.Now().UTC().Format("2006-01-02T15:04:05.000Z") }

func place(db *sql.DB, s settings, kind, order, amount string) error {
	if len(order) == 0 || len(order) > 100 {
		return usageError("ORDER must be 1 to 100 characters")
	}
	if !amountPattern.MatchString(amount) || len(amount) > 16 {
		return usageError("AMOUNT must be a decimal string such as 250.50")
	}
	var c command
	switch kind {
	case "purchase", "failing":
		c = command{provider: "amanpay", operation: "purchase", account: "default",
			data: purchaseData{PaymentID: order, Amount: amount, Currency: "BDT", CustomerEmail: "customer@example.com"}}
		if kind == "failing" { // a merchant account this PayBridge does not have: command.failed / UNKNOWN_ACCOUNT
			d := c.data.(purchaseData)
			d.Account, c.account = "nosuch", "nosuch"
			c.data = d
		}
	case "payin":
		data, err := payInFromMethods(s, order, amount)
		if err != nil {
			return err
		}
		c = command{provider: "firstpay", operation: "pay_in", account: "default", data: data}
	default:
		return usageError("place takes purchase, payin or failing")
	}
	id, err := writeOrder(db, kind, order, amount, c)
	if err != nil {
		return err
	}
	fmt.Printf("placed %s command %s (%s.%s)\n", order, id, c.provider, c.operation)
	return nil
}

// writeOrder stores the order row and its command in the outbox in one transaction.
func writeOrder(db *sql.DB, kind, order, amount string, c command) (string, error) {
	id := newID()
	body, err := json.Marshal(cloudEvent{SpecVersion: "1.0", ID: id,
		Type:   "paybridge." + c.provider + "." + c.operation + ".v1",
		Source: source, Time: nowRFC3339(), DataContentType: "application/json", Data: c.data})
	if err != nil {
		return "", err
	}
	tx, err := db.Begin()
	if err != nil {
		return "", err
	}
	defer tx.Rollback()
	now := nowRFC3339()
	if _, err := tx.Exec(`INSERT INTO orders (order_id, kind, provider, account, payment_id, amount, command_id, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, order, kind, c.provider, c.account, order, amount, id, now); err != nil {
		return "", fmt.Errorf("order %s: %w", order, err)
	}
	if _, err := tx.Exec(`INSERT INTO outbox (command_id, order_id, routing_key, body, created_at) VALUES (?, ?, ?, ?, ?)`,
		id, order, c.provider+"."+c.operation, body, now); err != nil {
		return "", err
	}
	return id, tx.Commit()
}
