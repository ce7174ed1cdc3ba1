"""The order service's SQLite database: orders (with their payment's projected status), the outbox, the inbox.

One file, shared by the short-lived commands (`place`, `relay`, `status`) and the long-running consumer, so it
runs in WAL mode with a busy timeout. Every write goes through `transaction`, which takes the write lock first
(BEGIN IMMEDIATE): the order row and its outbox row, or the inbox row and the projection change, commit together.
"""
import contextlib
import sqlite3
from datetime import datetime, timezone

SCHEMA = """
CREATE TABLE IF NOT EXISTS orders (
    order_id            TEXT PRIMARY KEY,          -- also the payment id sent to the provider
    kind                TEXT NOT NULL,             -- purchase | payin | failing
    provider            TEXT NOT NULL,
    account             TEXT NOT NULL,             -- PayBridge's merchant account (absent in events = default)
    amount              TEXT NOT NULL,
    command_id          TEXT NOT NULL UNIQUE,
    provider_payment_id TEXT,                      -- learned from events; places events without paymentId
    status              TEXT,                      -- the status rule's state: status, final, time
    final               INTEGER NOT NULL DEFAULT 0,
    status_time         TEXT,
    last_error          TEXT,                      -- data.error.code of the newest command.failed
    last_error_time     TEXT,
    created_at          TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS outbox (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    command_id  TEXT NOT NULL UNIQUE,
    order_id    TEXT NOT NULL REFERENCES orders(order_id),
    routing_key TEXT NOT NULL,
    type        TEXT NOT NULL,
    body        BLOB NOT NULL,
    sent_at     TEXT
);
CREATE TABLE IF NOT EXISTS inbox (
    event_id    TEXT PRIMARY KEY,
    type        TEXT NOT NULL,
    source      TEXT NOT NULL,
    order_id    TEXT REFERENCES orders(order_id),  -- NULL: an event for a payment this service does not have
    received_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS inbox_order ON inbox(order_id);
"""


def now():
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def connect(path):
    conn = sqlite3.connect(path, timeout=30, isolation_level=None)  # autocommit; transactions are explicit
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.executescript(SCHEMA)
    return conn


@contextlib.contextmanager
def transaction(conn):
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


class OrderExists(Exception):
    pass


def place(conn, order, kind, provider, account, amount, command):
    """The order row and its command in the outbox, in one transaction."""
    with transaction(conn):
        if conn.execute("SELECT 1 FROM orders WHERE order_id = ?", (order,)).fetchone():
            raise OrderExists(order)
        conn.execute("INSERT INTO orders (order_id, kind, provider, account, amount, command_id, created_at) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?)", (order, kind, provider, account, amount, command.id, now()))
        conn.execute("INSERT INTO outbox (command_id, order_id, routing_key, type, body) VALUES (?, ?, ?, ?, ?)",
                     (command.id, order, command.routing_key, command.type, command.body))


def unsent(conn):
    return conn.execute("SELECT command_id, routing_key, type, body FROM outbox WHERE sent_at IS NULL "
                        "ORDER BY seq").fetchall()


def mark_sent(conn, command_id):
    with transaction(conn):
        conn.execute("UPDATE outbox SET sent_at = ? WHERE command_id = ?", (now(), command_id))


def order(conn, order_id):
    return conn.execute("SELECT * FROM orders WHERE order_id = ?", (order_id,)).fetchone()


def events_applied(conn, order_id):
    return conn.execute("SELECT COUNT(*) FROM inbox WHERE order_id = ?", (order_id,)).fetchone()[0]
