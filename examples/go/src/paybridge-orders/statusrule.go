package main

import "time"

// The status rule of docs/contract.md ("The status rule"), applied as events arrive, in any order:
// a final status replaces any non-final status and any older final one; a non-final status replaces only an
// older non-final one; equal times keep the status already held; `unknown` and statuses this copy does not
// list never move the payment.

const commandFailed = "paybridge.command.failed.v1"

// knownStatuses maps every status this client knows to whether it is final.
var knownStatuses = map[string]bool{
	"processing":      false,
	"requires_action": false,
	"under_review":    false,
	"succeeded":       true,
	"failed":          true,
	"cancelled":       true,
}

// Payment is the projected status of one payment; Set is false while no event has moved it.
type Payment struct {
	Set    bool
	Status string
	Final  bool
	Time   time.Time
}

// effectiveStatus is the status an event brings to the rule: command.failed says nothing about the payment, so it
// counts as `unknown` whatever it carries (earlier PayBridge versions said `failed` there).
func effectiveStatus(eventType, status string) string {
	if eventType == commandFailed {
		return "unknown"
	}
	return status
}

// moves reports whether an event with this status and time can move a payment at all.
func moves(status string) bool {
	_, known := knownStatuses[status]
	return known
}

// Apply returns the payment after an event with status s at time t, and whether it changed.
func Apply(p Payment, s string, t time.Time) (Payment, bool) {
	final, known := knownStatuses[s]
	if !known {
		return p, false
	}
	take := !p.Set ||
		(final && !p.Final) ||
		(final && p.Final && t.After(p.Time)) ||
		(!final && !p.Final && t.After(p.Time))
	if !take {
		return p, false
	}
	return Payment{Set: true, Status: s, Final: final, Time: t}, true
}
