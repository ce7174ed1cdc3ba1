package main

import (
	"testing"
	"time"
)

type ev struct {
	typ, status, time string
}

func at(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func project(t *testing.T, events []ev) Payment {
	var p Payment
	for _, e := range events {
		typ := e.typ
		if typ == "" {
			typ = "paybridge.payment.response.v1"
		}
		p, _ = Apply(p, effectiveStatus(typ, e.status), at(t, e.time))
	}
	return p
}

func TestStatusRule(t *testing.T) {
	const (
		t1 = "2026-11-21T06:00:01.000Z"
		t2 = "2026-11-21T06:00:02.000Z"
		t3 = "2026-11-21T06:00:03.000Z"
		t4 = "2026-11-21T06:00:04.000Z"
	)
	cases := []struct {
		name   string
		events []ev
		want   string // "" = no status yet
		final  bool
	}{
		{"nothing", nil, "", false},
		{"first non-final", []ev{{"", "processing", t1}}, "processing", false},
		{"newer non-final replaces older", []ev{{"", "processing", t1}, {"", "requires_action", t2}}, "requires_action", false},
		{"older non-final arriving late keeps newer", []ev{{"", "requires_action", t2}, {"", "processing", t1}}, "requires_action", false},
		{"final beats older non-final", []ev{{"", "processing", t1}, {"", "succeeded", t2}}, "succeeded", true},
		{"out of order: late non-final never beats final", []ev{{"", "succeeded", t1}, {"", "requires_action", t2}}, "succeeded", true},
		{"final arriving after a newer non-final still wins", []ev{{"", "requires_action", t3}, {"", "succeeded", t2}}, "succeeded", true},
		{"correction: newer final beats older final", []ev{{"", "succeeded", t1}, {"", "failed", t2}}, "failed", true},
		{"correction back: success, failed, success", []ev{{"", "succeeded", t1}, {"", "failed", t2}, {"", "succeeded", t3}}, "succeeded", true},
		{"correction out of order: older final arrives last", []ev{{"", "succeeded", t3}, {"", "failed", t2}, {"", "succeeded", t1}}, "succeeded", true},
		{"correction out of order: newest failed first", []ev{{"", "failed", t4}, {"", "succeeded", t3}, {"", "processing", t1}}, "failed", true},
		{"equal time keeps the status held (final)", []ev{{"", "succeeded", t2}, {"", "failed", t2}}, "succeeded", true},
		{"equal time keeps the status held (non-final)", []ev{{"", "processing", t2}, {"", "under_review", t2}}, "processing", false},
		{"unknown never moves", []ev{{"", "processing", t1}, {"", "unknown", t2}}, "processing", false},
		{"unknown alone leaves no status", []ev{{"", "unknown", t1}}, "", false},
		{"unlisted status counts as unknown", []ev{{"", "processing", t1}, {"", "refunded", t2}}, "processing", false},
		{"command.failed never moves, even saying failed", []ev{{"", "succeeded", t1}, {"paybridge.command.failed.v1", "failed", t2}}, "succeeded", true},
		{"command.failed alone leaves no status", []ev{{"paybridge.command.failed.v1", "unknown", t1}}, "", false},
		{"duplicates are harmless", []ev{{"", "succeeded", t2}, {"", "succeeded", t2}, {"", "processing", t1}, {"", "processing", t1}}, "succeeded", true},
		{"times compare as instants, not text", []ev{{"", "processing", "2026-11-21T07:00:00+01:00"}, {"", "under_review", "2026-11-21T06:30:00Z"}}, "under_review", false},
		{"cancelled is final", []ev{{"", "cancelled", t1}, {"", "processing", t2}}, "cancelled", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := project(t, c.events)
			if c.want == "" {
				if p.Set {
					t.Fatalf("got status %q, want none", p.Status)
				}
				return
			}
			if !p.Set || p.Status != c.want || p.Final != c.final {
				t.Fatalf("got %+v, want %s final=%v", p, c.want, c.final)
			}
		})
	}
}

// Every order of the same events gives the same status when their times differ.
func TestStatusRuleOrderIndependent(t *testing.T) {
	events := []ev{
		{"", "processing", "2026-11-21T06:00:01Z"},
		{"", "requires_action", "2026-11-21T06:00:02Z"},
		{"", "succeeded", "2026-11-21T06:00:03Z"},
		{"", "failed", "2026-11-21T06:00:04Z"},
		{"", "under_review", "2026-11-21T06:00:05Z"},
		{"paybridge.command.failed.v1", "unknown", "2026-11-21T06:00:06Z"},
	}
	var permute func(k int)
	permute = func(k int) {
		if k == len(events) {
			if p := project(t, events); p.Status != "failed" || !p.Final {
				t.Fatalf("order %v gave %+v", events, p)
			}
			return
		}
		for i := k; i < len(events); i++ {
			events[k], events[i] = events[i], events[k]
			permute(k + 1)
			events[k], events[i] = events[i], events[k]
		}
	}
	permute(0)
}
