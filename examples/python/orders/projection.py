"""The projection: PayBridge events applied to orders with the status rule of docs/contract.md ("The status rule"),
the inbox keyed by event id, and the order's last command error. `apply` does one event in one transaction."""
from datetime import datetime

from . import db

KNOWN = {"processing", "requires_action", "under_review", "succeeded", "failed", "cancelled"}
FINAL = {"succeeded", "failed", "cancelled"}
COMMAND_FAILED = "paybridge.command.failed.v1"


def instant(text):
    """An RFC 3339 time as an aware datetime, or None."""
    if not isinstance(text, str):
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    return value if value.tzinfo is not None else None


def takes(held_status, held_final, held_time, status, time):
    """The status rule: does an event (status, time) replace what the payment holds?"""
    if status not in KNOWN:  # "unknown", or a status this copy of the schema does not list: never moves
        return False
    final = status in FINAL
    if held_status is None:
        return True
    if final and not held_final:  # final beats any non-final, newer or not
        return True
    if final and held_final:  # a newer final (a FirstPay correction); equal times keep
        return time > instant(held_time)
    if not final and not held_final:  # a non-final replaces only an older non-final
        return time > instant(held_time)
    return False  # a non-final never moves a final payment


def attribute(conn, event, correlation_id):
    """The order an event is about: by (provider, account, paymentId); a command.failed by its command id (the
    order's own command) first; an event without paymentId by the provider's payment id learned before."""
    data = event["data"]
    provider, account = data.get("provider"), data.get("account") or "default"
    if event["type"] == COMMAND_FAILED:
        command_id = data.get("commandId") or correlation_id
        row = conn.execute("SELECT order_id FROM orders WHERE command_id = ?", (command_id,)).fetchone()
        if row:
            return row["order_id"]
    if isinstance(data.get("paymentId"), str):
        row = conn.execute("SELECT order_id FROM orders WHERE provider = ? AND account = ? AND order_id = ?",
                           (provider, account, data["paymentId"])).fetchone()
    elif isinstance(data.get("providerPaymentId"), str):
        row = conn.execute("SELECT order_id FROM orders WHERE provider = ? AND account = ? "
                           "AND provider_payment_id = ?", (provider, account, data["providerPaymentId"])).fetchone()
    else:
        row = None
    return row["order_id"] if row else None


def apply(conn, event, correlation_id):
    """Inbox row + projection change in one transaction. Returns (order or None, what happened)."""
    time = instant(event["time"])
    with db.transaction(conn):
        if conn.execute("SELECT 1 FROM inbox WHERE event_id = ?", (event["id"],)).fetchone():
            return None, "duplicate"
        order_id = attribute(conn, event, correlation_id)
        conn.execute("INSERT INTO inbox (event_id, type, source, order_id, received_at) VALUES (?, ?, ?, ?, ?)",
                     (event["id"], event["type"], event["source"], order_id, db.now()))
        if order_id is None:
            return None, "not ours"
        order = db.order(conn, order_id)
        data = event["data"]
        if isinstance(data.get("providerPaymentId"), str) and isinstance(data.get("paymentId"), str) \
                and order["provider_payment_id"] is None:
            conn.execute("UPDATE orders SET provider_payment_id = ? WHERE order_id = ?",
                         (data["providerPaymentId"], order_id))
        if event["type"] == COMMAND_FAILED:  # says nothing about the payment (status unknown); records the error
            code = (data.get("error") or {}).get("code") if isinstance(data.get("error"), dict) else None
            held = instant(order["last_error_time"])
            if isinstance(code, str) and (held is None or time > held):
                conn.execute("UPDATE orders SET last_error = ?, last_error_time = ? WHERE order_id = ?",
                             (code, event["time"], order_id))
            return order_id, f"error {code}"
        status = data.get("status")
        if takes(order["status"], bool(order["final"]), order["status_time"], status, time):
            conn.execute("UPDATE orders SET status = ?, final = ?, status_time = ? WHERE order_id = ?",
                         (status, status in FINAL, event["time"], order_id))
            return order_id, f"moved to {status}"
        return order_id, f"kept {order['status']} ({status})"
