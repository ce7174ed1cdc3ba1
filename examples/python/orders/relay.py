"""The outbox relay: publishes every unsent outbox row to payments.commands (mandatory, publisher confirms) and
marks a row sent only once the broker confirmed it. A returned, nacked or unconfirmed row stays unsent and is
reported; the relay then exits 3 (running it again retries those rows under the same command id)."""
import asyncio
import sys

from aio_pika.exceptions import DeliveryError, PublishError

from . import db
from .broker import CONFIRM_TIMEOUT, command_message, producer_channel

EXIT_NOT_SENT = 3


async def relay(conn, producer_url):
    rows = db.unsent(conn)
    if not rows:
        return 0
    not_sent = 0
    connection, _, exchange = await producer_channel(producer_url)
    async with connection:
        for row in rows:
            command_id = row["command_id"]
            message = command_message(command_id, row["type"], bytes(row["body"]))
            try:
                await exchange.publish(message, row["routing_key"], mandatory=True, timeout=CONFIRM_TIMEOUT)
            except PublishError as error:  # basic.return: no queue bound for the routing key
                print(f"returned {command_id}: {error.frame.reply_text} (is the topology declared?)", file=sys.stderr)
                not_sent += 1
                continue
            except DeliveryError as error:  # basic.nack
                print(f"nacked {command_id}: {error.frame}", file=sys.stderr)
                not_sent += 1
                continue
            except asyncio.TimeoutError:
                print(f"unconfirmed {command_id}: no confirm within {CONFIRM_TIMEOUT} s", file=sys.stderr)
                not_sent += 1
                continue
            db.mark_sent(conn, command_id)
            print(f"sent {command_id}", flush=True)
    return EXIT_NOT_SENT if not_sent else 0
