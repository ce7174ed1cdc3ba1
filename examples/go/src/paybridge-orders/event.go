package main

import (
	"encoding/json"
	"fmt"
	"time"
)

// An outcome event as this client reads it (docs/contract.md, "Events"): a CloudEvent in structured JSON mode.
// Fields it does not need are ignored; fields it knows may be absent or null.

type eventError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Class   string `json:"class"`
}

type eventData struct {
	CommandID         *string     `json:"commandId"`
	Provider          string      `json:"provider"`
	Account           *string     `json:"account"`
	PaymentID         *string     `json:"paymentId"`
	ProviderPaymentID *string     `json:"providerPaymentId"`
	Status            string      `json:"status"`
	Error             *eventError `json:"error"`
}

type event struct {
	SpecVersion string     `json:"specversion"`
	ID          string     `json:"id"`
	Type        string     `json:"type"`
	Source      string     `json:"source"`
	Time        string     `json:"time"`
	Data        *eventData `json:"data"`
	at          time.Time
}

// account is the event's merchant account; absent means `default`.
func (d *eventData) account() string {
	if d.Account == nil {
		return "default"
	}
	return *d.Account
}

// parseEvent reads a delivery's body. An error means a poison message: too big, not JSON, not a CloudEvent.
func parseEvent(body []byte) (*event, error) {
	if len(body) > maxBody {
		return nil, fmt.Errorf("body of %d bytes is over the %d-byte limit", len(body), maxBody)
	}
	var e event
	if err := json.Unmarshal(body, &e); err != nil {
		return nil, fmt.Errorf("not a JSON CloudEvent: %w", err)
	}
	if e.SpecVersion != "1.0" || e.ID == "" || e.Type == "" || e.Source == "" {
		return nil, fmt.Errorf("not a CloudEvent 1.0 (specversion %q, id %q, type %q, source %q)",
			e.SpecVersion, e.ID, e.Type, e.Source)
	}
	at, err := time.Parse(time.RFC3339Nano, e.Time)
	if err != nil {
		return nil, fmt.Errorf("event %s: time %q is not RFC 3339", e.ID, e.Time)
	}
	e.at = at
	return &e, nil
}
