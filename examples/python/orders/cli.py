"""The command line every reference client shares (examples/README.md) and its settings from the environment."""
import asyncio
import json
import os
import sys

from aio_pika.exceptions import AMQPError

from . import commands, db, query
from .consumer import consume
from .relay import relay

USAGE = """usage: run place purchase|payin|failing ORDER AMOUNT
       run relay
       run consume
       run status ORDER
       run methods [ACCOUNT]   (prints PayBridge's payment-methods reply; exit 4 when it is an error)"""
DEFAULT_URL = "amqp://guest:guest@127.0.0.1:5672/%2F"


def settings():
    env = os.environ.get
    return {"db": env("EXAMPLE_DB", "./orders.db"),
            "producer_url": env("PAYBRIDGE_PRODUCER_URL", DEFAULT_URL),
            "consumer_url": env("PAYBRIDGE_CONSUMER_URL", DEFAULT_URL),
            "queue": env("EXAMPLE_QUEUE", "consumer.orders-python.payments"),
            "wallet": env("EXAMPLE_WALLET", "01712345678")}


def place(conn, s, kind, order, amount):
    if kind == "purchase":
        commands.place_purchase(conn, order, amount)
    elif kind == "failing":
        commands.place_failing(conn, order, amount)
    else:
        user = f"user-{order}"
        reply = asyncio.run(query.payment_methods(s["producer_url"], order, user, amount))
        method = query.first_bdt_pay_in(reply["methods"], s["wallet"])
        commands.place_payin(conn, order, amount, method, s["wallet"], user)
        print(f"method {method['id']} (account {method['accountId']}) of {len(reply['methods'])}", file=sys.stderr)
    print(f"placed {kind} {order}")
    return 0


def methods(s, account):
    """Asks for FirstPay's PAY_IN methods for a 1.00 payment and prints the reply's data as one JSON line."""
    data = asyncio.run(query.payment_methods(s["producer_url"], "methods-probe", "user-probe", "1.00", account,
                                             errors_raise=False))
    print(json.dumps(data, sort_keys=True))
    return 4 if "error" in data else 0


def status(conn, order_id):
    order = db.order(conn, order_id)
    if order is None:
        print(f"status: no order {order_id}", file=sys.stderr)
        return 1
    print(json.dumps({"order": order_id, "status": order["status"], "final": bool(order["final"]),
                      "time": order["status_time"], "lastError": order["last_error"],
                      "events": db.events_applied(conn, order_id)}))
    return 0


def main(argv):
    s = settings()
    shape = [argv[0] if argv else None, len(argv)]
    if shape == ["place", 4] and argv[1] in ("purchase", "payin", "failing"):
        action = lambda conn: place(conn, s, *argv[1:])  # noqa: E731
    elif shape == ["relay", 1]:
        action = lambda conn: asyncio.run(relay(conn, s["producer_url"]))  # noqa: E731
    elif shape == ["consume", 1]:
        action = lambda conn: asyncio.run(consume(conn, s["consumer_url"], s["queue"]))  # noqa: E731
    elif shape == ["status", 2]:
        action = lambda conn: status(conn, argv[1])  # noqa: E731
    elif argv[:1] == ["methods"] and len(argv) <= 2:
        action = lambda conn: methods(s, argv[1] if len(argv) == 2 else None)  # noqa: E731
    else:
        print(USAGE, file=sys.stderr)
        return 2
    conn = db.connect(s["db"])
    try:
        return action(conn)
    except db.OrderExists as error:
        print(f"place: order {error} exists already", file=sys.stderr)
        return 1
    except query.QueryError as error:
        print(f"{argv[0]}: {error}", file=sys.stderr)
        return 1
    except (AMQPError, OSError) as error:
        print(f"{argv[0]}: broker: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    finally:
        conn.close()
