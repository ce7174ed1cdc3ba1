package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"regexp"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// The payment-methods query (paybridge.firstpay.payment_methods.v1): a request on payments.commands, the reply
// over RabbitMQ's direct reply-to. The reply-to consumer is started on the publishing channel before the request
// is published, as direct reply-to requires.

const (
	replyTo      = "amq.rabbitmq.reply-to"
	replyTimeout = 15 * time.Second
)

type clientField struct {
	Key      string  `json:"key"`
	Name     string  `json:"name"`
	Required bool    `json:"required"`
	Pattern  *string `json:"pattern"`
}

type paymentMethod struct {
	ID                 string        `json:"id"`
	Type               string        `json:"type"`
	Currency           string        `json:"currency"`
	AccountID          *int64        `json:"accountId"`
	ClientFields       []clientField `json:"clientFields"`
	AttachmentRequired bool          `json:"attachmentRequired"`
}

type methodsReply struct {
	Type string `json:"type"`
	Data struct {
		QueryID string          `json:"queryId"`
		Methods []paymentMethod `json:"methods"`
		Error   *eventError     `json:"error"`
	} `json:"data"`
}

type methodsQuery struct {
	MerchantPaymentID string `json:"merchantPaymentId"`
	MerchantUserID    string `json:"merchantUserId"`
	Amount            string `json:"amount"`
	Type              string `json:"type"`
}

// payInFromMethods asks for FirstPay's PAY_IN methods, takes the first in BDT and fills each of its client fields
// with the customer's wallet.
func payInFromMethods(s settings, order, amount string) (payInData, error) {
	user := "user-" + order
	methods, err := queryPaymentMethods(s.producerURL, methodsQuery{order, user, amount, "PAY_IN"})
	if err != nil {
		return payInData{}, err
	}
	for _, m := range methods {
		if m.Type != "PAY_IN" || m.Currency != "BDT" {
			continue
		}
		if m.AccountID == nil || m.AttachmentRequired {
			return payInData{}, fmt.Errorf("method %s: no accountId or needs an attachment; this client cannot use it", m.ID)
		}
		values := []fieldValue{}
		for _, f := range m.ClientFields {
			if f.Pattern != nil { // check the input before FirstPay refuses it (INCORRECT_FIELDS)
				re, err := regexp.Compile(*f.Pattern)
				if err != nil {
					log.Printf("method %s field %s: pattern %q is not Go syntax; not checked here", m.ID, f.Key, *f.Pattern)
				} else if !re.MatchString(s.wallet) {
					return payInData{}, fmt.Errorf("method %s: wallet %q does not fit field %s (pattern %q)", m.ID, s.wallet, f.Key, *f.Pattern)
				}
			}
			values = append(values, fieldValue{f.Key, s.wallet})
		}
		return payInData{AccountID: *m.AccountID, PaymentMethodID: m.ID, Amount: amount,
			ClientFieldsValues: values, MerchantPaymentID: order, MerchantUserID: user}, nil
	}
	return payInData{}, fmt.Errorf("FirstPay offers no PAY_IN method in BDT (%d methods)", len(methods))
}

func queryPaymentMethods(url string, q methodsQuery) ([]paymentMethod, error) {
	conn, ch, err := dial(url, "query")
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	closed := ch.NotifyClose(make(chan *amqp.Error, 1))
	returns := ch.NotifyReturn(make(chan amqp.Return, 1))
	replies, err := ch.Consume(replyTo, "", true, false, false, false, nil) // before publishing, same channel
	if err != nil {
		return nil, fmt.Errorf("consume %s: %w", replyTo, err)
	}
	id := newID()
	body, err := json.Marshal(cloudEvent{SpecVersion: "1.0", ID: id, Type: "paybridge.firstpay.payment_methods.v1",
		Source: source, Time: nowRFC3339(), DataContentType: "application/json", Data: q})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), replyTimeout)
	defer cancel()
	err = ch.PublishWithContext(ctx, "payments.commands", "firstpay.payment_methods", true, false, amqp.Publishing{
		ContentType: "application/cloudevents+json", MessageId: id, CorrelationId: id, ReplyTo: replyTo,
		Expiration: "30000", Type: "paybridge.firstpay.payment_methods.v1", Timestamp: time.Now(), Body: body})
	if err != nil {
		return nil, fmt.Errorf("publish the query: %w", err)
	}
	for {
		select {
		case r, ok := <-returns:
			if !ok {
				return nil, fmt.Errorf("channel closed while waiting for the reply: %v", <-closed)
			}
			return nil, fmt.Errorf("the query was returned (%d %s): is PayBridge's topology declared?", r.ReplyCode, r.ReplyText)
		case e := <-closed:
			return nil, fmt.Errorf("channel closed while waiting for the reply: %v", e)
		case <-ctx.Done():
			return nil, fmt.Errorf("no reply to the payment-methods query within %s: is PayBridge running (and does it answer queries)?", replyTimeout)
		case d, ok := <-replies:
			if !ok {
				return nil, errors.New("the reply consumer was cancelled")
			}
			if d.CorrelationId != id {
				continue // not the answer to this request
			}
			return parseMethodsReply(d.Body)
		}
	}
}

func parseMethodsReply(body []byte) ([]paymentMethod, error) {
	if len(body) > maxBody {
		return nil, fmt.Errorf("reply of %d bytes is over the %d-byte limit", len(body), maxBody)
	}
	var r methodsReply
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("unreadable reply: %w", err)
	}
	if e := r.Data.Error; e != nil {
		return nil, fmt.Errorf("PayBridge answered %s (%s): %s", e.Code, e.Class, e.Message)
	}
	return r.Data.Methods, nil
}
