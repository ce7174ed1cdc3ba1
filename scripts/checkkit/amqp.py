"""The AMQP side of the container checks (scripts/composecheck, scripts/imagecheck), with pika: commands published as
payments-producer (persistent, mandatory, confirmed, as docs/integration.md asks), events read as payments-consumer
from the check's own consumer.* queue bound to payments.outcomes, queue depths read as paybridge."""
import json
import threading
import time

import pika

MAX_EVENT_BYTES = 1 << 20


def parameters(amqp_url):
    params = pika.URLParameters(amqp_url)
    params.connection_attempts = 1
    params.socket_timeout = 5
    params.blocked_connection_timeout = 30
    return params


def can_log_in(amqp_url):
    try:
        pika.BlockingConnection(parameters(amqp_url)).close()
        return True
    except pika.exceptions.AMQPError:
        return False


class Publisher:
    """One connection, one confirm-mode channel; `publish` returns once the broker confirmed (raises pika's
    UnroutableError or NackError otherwise)."""

    def __init__(self, amqp_url):
        self.connection = pika.BlockingConnection(parameters(amqp_url))
        self.channel = self.connection.channel()
        self.channel.confirm_delivery()

    def publish(self, routing_key, command):
        self.channel.basic_publish(
            "payments.commands", routing_key, json.dumps(command).encode(), mandatory=True,
            properties=pika.BasicProperties(content_type="application/cloudevents+json", delivery_mode=2,
                                            message_id=command["id"], type=command["type"]))

    def close(self):
        if self.connection.is_open:
            self.connection.close()


class Event:
    def __init__(self, properties, body, received):
        self.type = properties.type
        self.correlation_id = properties.correlation_id
        self.received = received  # time.time()
        document = json.loads(body) if len(body) <= MAX_EVENT_BYTES else {}
        self.id = document.get("id")
        self.data = document.get("data") or {}

    def __repr__(self):
        return (f"{(self.type or '?').removeprefix('paybridge.')} id={self.id} status={self.data.get('status')} "
                f"payment={self.data.get('paymentId')}")


class EventCollector:
    """Every event of payments.outcomes, in memory, read on its own thread (pika's connections are not shared
    between threads) from an exclusive queue `queue` (a consumer.* name) bound with `#`. Start it before
    publishing."""

    def __init__(self, amqp_url, queue):
        self.url, self.queue = amqp_url, queue
        self.lock = threading.Lock()
        self.events = []
        self.error = None
        self.stopping = threading.Event()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, name="events", daemon=True)

    def start(self, deadline_s=20):
        self.thread.start()
        self.ready.wait(deadline_s)
        if self.error or not self.ready.is_set():
            raise RuntimeError(f"cannot consume events as payments-consumer: {self.error or 'timed out'}")

    def _run(self):
        try:
            connection = pika.BlockingConnection(parameters(self.url))
            channel = connection.channel()
            channel.queue_declare(self.queue, exclusive=True, auto_delete=True)
            channel.queue_bind(self.queue, "payments.outcomes", "#")
            channel.basic_consume(self.queue, self._received, auto_ack=True)
            self.ready.set()
            while not self.stopping.is_set():
                connection.process_data_events(time_limit=0.2)
            connection.close()
        except Exception as error:  # reported by start() and the waits
            self.error = f"{type(error).__name__}: {error}"
            self.ready.set()

    def _received(self, _channel, _method, properties, body):
        event = Event(properties, body, time.time())
        with self.lock:
            self.events.append(event)

    def snapshot(self):
        with self.lock:
            return list(self.events)

    def wait_for(self, condition, deadline_s):
        """Polls `condition(events)` until it is truthy (returned) or the deadline (None)."""
        deadline = time.monotonic() + deadline_s
        while True:
            result = condition(self.snapshot())
            if result or time.monotonic() > deadline or self.error:
                return result or None
            time.sleep(0.2)

    def stop(self):
        self.stopping.set()
        self.thread.join(5)


def ready_messages(amqp_url, queues):
    """{queue: ready messages} by passive declares (messages delivered and not yet acknowledged are not counted)."""
    connection = pika.BlockingConnection(parameters(amqp_url))
    try:
        channel = connection.channel()
        return {queue: channel.queue_declare(queue, passive=True).method.message_count for queue in queues}
    finally:
        connection.close()


def refused_publish(amqp_url, exchange, routing_key):
    """True when the broker refuses this user a publish to `exchange` (403 ACCESS_REFUSED closes the channel)."""
    connection = pika.BlockingConnection(parameters(amqp_url))
    try:
        channel = connection.channel()
        channel.confirm_delivery()
        channel.basic_publish(exchange, routing_key, b"{}")
        return False
    except pika.exceptions.ChannelClosedByBroker as error:
        return error.reply_code == 403
    finally:
        if connection.is_open:
            connection.close()
