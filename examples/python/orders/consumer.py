"""The consumer: its own quorum queue bound to payments.outcomes (`#`), manual acks, prefetch 50. Each event is
applied in one transaction (projection.apply) and acked after the commit. A poison message (too big, not JSON,
not a CloudEvent) is logged and rejected without requeue: it goes to the queue's dead-letter queue
`<queue>.dead`, never back (so is one that crashed the process DELIVERY_LIMIT times). Runs until SIGTERM/SIGINT, then exits 0."""
import asyncio
import signal
import sqlite3
import sys

import aio_pika

from . import bounded, projection

OUTCOMES_EXCHANGE = "payments.outcomes"
PREFETCH = 50
DELIVERY_LIMIT = 20  # a message that keeps crashing the process is dead-lettered after this many deliveries


def log(text):
    print(text, file=sys.stderr, flush=True)


def cloud_event(body):
    """The event, or raises ValueError saying why it is poison."""
    event = bounded.loads(body)
    if not isinstance(event, dict) or event.get("specversion") != "1.0":
        raise ValueError("not a CloudEvents 1.0 event")
    for name in ("id", "type", "source", "time"):
        if not isinstance(event.get(name), str) or not event[name]:
            raise ValueError(f"no {name}")
    if projection.instant(event["time"]) is None:
        raise ValueError(f"time {event['time']!r} is not RFC 3339")
    if not isinstance(event.get("data"), dict):
        raise ValueError("data is not an object")
    return event


async def declare(channel, name):
    """The dead-letter exchange and queue, then the queue itself, bound to every routing key of the outcomes."""
    dead_exchange = await channel.declare_exchange(f"{name}.dead", aio_pika.ExchangeType.FANOUT, durable=True)
    dead_queue = await channel.declare_queue(f"{name}.dead", durable=True, arguments={"x-queue-type": "quorum"})
    await dead_queue.bind(dead_exchange, "")
    queue = await channel.declare_queue(name, durable=True, arguments={
        "x-queue-type": "quorum", "x-dead-letter-exchange": f"{name}.dead", "x-delivery-limit": DELIVERY_LIMIT})
    await queue.bind(await channel.get_exchange(OUTCOMES_EXCHANGE, ensure=False), "#")
    return queue


async def handle(conn, message):
    try:
        event = cloud_event(message.body)
    except ValueError as why:
        log(f"poison message {message.message_id or '-'} rejected (dead-lettered): {why}")
        await message.reject(requeue=False)
        return
    try:
        order, outcome = projection.apply(conn, event, message.correlation_id)
    except sqlite3.Error as error:  # the database, not the event: once more, then the dead-letter queue
        log(f"event {event['id']}: database error {error}; {'dead-lettered' if message.redelivered else 'requeued'}")
        await message.nack(requeue=not message.redelivered)
        return
    await message.ack()
    log(f"event {event['id']} {event['type']} order={order or '-'}: {outcome}")


async def consume(conn, consumer_url, queue_name):
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    connection = await aio_pika.connect(consumer_url)
    async with connection:
        channel = await connection.channel()
        await channel.set_qos(prefetch_count=PREFETCH)
        queue = await declare(channel, queue_name)
        tag = await queue.consume(lambda message: handle(conn, message))
        print("ready", flush=True)
        await stop.wait()
        await queue.cancel(tag)
    log("stopped")
    return 0
