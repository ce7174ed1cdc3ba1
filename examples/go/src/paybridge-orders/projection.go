package main

import (
	"database/sql"
	"fmt"
	"time"
)

// The projection: each event is recorded in the inbox (keyed by event id) and applied to its order's payment with
// the status rule, in one transaction (docs/integration.md, "De-duplication and side effects"). The consumer acks
// only after this transaction committed.

type orderState struct {
	id                                                   string
	status, statusTime, lastErrorTime, providerPaymentID sql.NullString
	final                                                sql.NullBool
	byCommand                                            bool // found by command id: the event is about the order's own command
}

// applyEvent records and applies one event; correlationID is the delivery's AMQP correlation_id. It returns what
// happened, for the log.
func applyEvent(db *sql.DB, e *event, correlationID string) (string, error) {
	tx, err := db.Begin()
	if err != nil {
		return "", err
	}
	defer tx.Rollback()
	res, err := tx.Exec(`INSERT INTO inbox (event_id, source, type, received_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (event_id) DO NOTHING`, e.ID, e.Source, e.Type, nowRFC3339())
	if err != nil {
		return "", err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return "duplicate, already applied", nil
	}
	o, err := findOrder(tx, e, correlationID)
	if err != nil {
		return "", err
	}
	outcome := "no order of ours"
	if o != nil {
		if outcome, err = applyToOrder(tx, o, e); err != nil {
			return "", err
		}
		if _, err := tx.Exec(`UPDATE inbox SET order_id = ? WHERE event_id = ?`, o.id, e.ID); err != nil {
			return "", err
		}
	}
	return outcome, tx.Commit()
}

// findOrder attributes an event to an order: command.failed by its command id (data.commandId, else the AMQP
// correlation_id); every event by its payment (provider, account, paymentId); an event without paymentId (an
// Amanpay SPECIFICATION callback) by the provider's payment id learnt from an earlier event.
func findOrder(tx *sql.Tx, e *event, correlationID string) (*orderState, error) {
	d := e.Data
	if d == nil {
		return nil, nil
	}
	type try struct {
		where     string
		args      []interface{}
		byCommand bool
	}
	var tries []try
	if e.Type == commandFailed {
		cmd := correlationID
		if d.CommandID != nil {
			cmd = *d.CommandID
		}
		if cmd != "" {
			tries = append(tries, try{"command_id = ?", []interface{}{cmd}, true})
		}
	}
	if d.PaymentID != nil {
		tries = append(tries, try{"provider = ? AND account = ? AND payment_id = ?",
			[]interface{}{d.Provider, d.account(), *d.PaymentID}, false})
	} else if d.ProviderPaymentID != nil {
		tries = append(tries, try{"provider = ? AND account = ? AND provider_payment_id = ?",
			[]interface{}{d.Provider, d.account(), *d.ProviderPaymentID}, false})
	}
	for _, t := range tries {
		o := orderState{byCommand: t.byCommand}
		err := tx.QueryRow(`SELECT order_id, status, final, status_time, last_error_time, provider_payment_id
			FROM orders WHERE `+t.where, t.args...).
			Scan(&o.id, &o.status, &o.final, &o.statusTime, &o.lastErrorTime, &o.providerPaymentID)
		if err == sql.ErrNoRows {
			continue
		}
		if err != nil {
			return nil, err
		}
		return &o, nil
	}
	return nil, nil
}

func applyToOrder(tx *sql.Tx, o *orderState, e *event) (string, error) {
	d := e.Data
	if _, err := tx.Exec(`UPDATE orders SET events = events + 1 WHERE order_id = ?`, o.id); err != nil {
		return "", err
	}
	if d.PaymentID != nil && d.ProviderPaymentID != nil && !o.providerPaymentID.Valid {
		if _, err := tx.Exec(`UPDATE orders SET provider_payment_id = ? WHERE order_id = ?`, *d.ProviderPaymentID, o.id); err != nil {
			return "", err
		}
	}
	outcome := fmt.Sprintf("order %s: status %q does not move it", o.id, d.Status)
	cur := Payment{Set: o.status.Valid, Status: o.status.String, Final: o.final.Bool}
	if cur.Set {
		t, err := time.Parse(time.RFC3339Nano, o.statusTime.String)
		if err != nil {
			return "", fmt.Errorf("order %s: stored time %q: %w", o.id, o.statusTime.String, err)
		}
		cur.Time = t
	}
	status := effectiveStatus(e.Type, d.Status)
	if next, changed := Apply(cur, status, e.at); changed {
		if _, err := tx.Exec(`UPDATE orders SET status = ?, final = ?, status_time = ? WHERE order_id = ?`,
			next.Status, next.Final, e.Time, o.id); err != nil {
			return "", err
		}
		outcome = fmt.Sprintf("order %s: now %s", o.id, next.Status)
	} else if cur.Set && moves(status) {
		outcome = fmt.Sprintf("order %s: keeps %s (event says %s)", o.id, cur.Status, status)
	}
	if e.Type == commandFailed && o.byCommand && d.Error != nil && newer(e.at, o.lastErrorTime) {
		if _, err := tx.Exec(`UPDATE orders SET last_error = ?, last_error_time = ? WHERE order_id = ?`,
			d.Error.Code, e.Time, o.id); err != nil {
			return "", err
		}
		outcome = fmt.Sprintf("order %s: command failed, %s (%s)", o.id, d.Error.Code, d.Error.Class)
	}
	return outcome, nil
}

// newer: t is after the stored time (or nothing is stored).
func newer(t time.Time, stored sql.NullString) bool {
	if !stored.Valid {
		return true
	}
	s, err := time.Parse(time.RFC3339Nano, stored.String)
	return err != nil || t.After(s)
}
