"""The projection on its own (no broker): the status rule of docs/contract.md, the inbox, lastError, attribution.
Run: python3 -m unittest discover -s examples/python/tests (standard library only)."""
import itertools
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from orders import db, projection  # noqa: E402
from orders.commands import Command  # noqa: E402

ids = itertools.count()


def event(status, time, kind="payment.response", payment="o1", **data):
    return {"specversion": "1.0", "id": f"e{next(ids)}", "type": f"paybridge.{kind}.v1", "source": "/t",
            "time": time, "data": {"provider": "amanpay", "paymentId": payment, "status": status, **data}}


class StatusRule(unittest.TestCase):
    def setUp(self):
        self.conn = db.connect(":memory:")
        db.place(self.conn, "o1", "purchase", "amanpay", "default", "1.00", Command("c1", "t", "k", b"{}"))

    def apply(self, *events):
        for e in events:
            projection.apply(self.conn, e, None)
        row = db.order(self.conn, "o1")
        return row["status"], bool(row["final"])

    def test_newest_non_final_then_final_beats_any_non_final(self):
        self.assertEqual(self.apply(event("processing", "2026-01-01T00:00:01Z"),
                                    event("requires_action", "2026-01-01T00:00:02Z")), ("requires_action", False))
        self.assertEqual(self.apply(event("succeeded", "2026-01-01T00:00:00Z")), ("succeeded", True))
        self.assertEqual(self.apply(event("processing", "2026-01-01T00:00:09Z")), ("succeeded", True))

    def test_older_non_final_does_not_move(self):
        self.assertEqual(self.apply(event("requires_action", "2026-01-01T00:00:02Z"),
                                    event("processing", "2026-01-01T00:00:01Z")), ("requires_action", False))

    def test_newer_final_wins_older_final_and_equal_time_keep(self):
        self.assertEqual(self.apply(event("succeeded", "2026-01-01T00:00:02.000Z"),
                                    event("failed", "2026-01-01T00:00:01.999Z"),
                                    event("cancelled", "2026-01-01T00:00:02Z")), ("succeeded", True))
        self.assertEqual(self.apply(event("failed", "2026-01-01T00:00:03Z")), ("failed", True))

    def test_unknown_and_unlisted_statuses_never_move(self):
        self.assertEqual(self.apply(event("unknown", "2026-01-01T00:00:01Z"),
                                    event("refunded", "2026-01-01T00:00:02Z")), (None, False))

    def test_other_payment_keys_do_not_move(self):
        self.assertEqual(self.apply(event("succeeded", "2026-01-01T00:00:01Z", account="other"),
                                    event("succeeded", "2026-01-01T00:00:01Z", provider="firstpay")), (None, False))

    def test_duplicates_count_once(self):
        e = event("processing", "2026-01-01T00:00:01Z")
        self.apply(e, e)
        self.assertEqual(db.events_applied(self.conn, "o1"), 1)

    def test_command_failed_records_the_newest_error_and_never_moves(self):
        failed = dict(kind="command.failed", payment=None, commandId="c1")
        self.apply(event("failed", "2026-01-01T00:00:02Z", error={"code": "NEWER"}, **failed),
                   event("unknown", "2026-01-01T00:00:01Z", error={"code": "OLDER"}, **failed))
        row = db.order(self.conn, "o1")
        self.assertEqual((row["status"], row["last_error"]), (None, "NEWER"))

    def test_event_without_payment_id_is_placed_by_the_provider_payment_id(self):
        self.apply(event("requires_action", "2026-01-01T00:00:01Z", providerPaymentId="62861"))
        self.assertEqual(self.apply(event("requires_action", "2026-01-01T00:00:02Z", payment=None,
                                          providerPaymentId="62861")), ("requires_action", False))
        self.assertEqual(db.events_applied(self.conn, "o1"), 2)


if __name__ == "__main__":
    unittest.main()
