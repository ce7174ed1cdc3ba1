package main

import (
	"database/sql"
	"fmt"
	"strings"

	_ "github.com/mattn/go-sqlite3"
)

// The three tables: orders (with the projection of the order's payment), outbox (commands not yet confirmed by
// the broker) and inbox (every event id ever processed, so a redelivered or republished event is applied once).
const schema = `
CREATE TABLE IF NOT EXISTS orders (
  order_id            TEXT PRIMARY KEY,
  kind                TEXT NOT NULL,
  provider            TEXT NOT NULL,
  account             TEXT NOT NULL,
  payment_id          TEXT NOT NULL,
  amount              TEXT NOT NULL,
  command_id          TEXT NOT NULL UNIQUE,
  provider_payment_id TEXT,
  status              TEXT,
  final               INTEGER,
  status_time         TEXT,
  last_error          TEXT,
  last_error_time     TEXT,
  events              INTEGER NOT NULL DEFAULT 0,
  created_at          TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS orders_payment ON orders (provider, account, payment_id);
CREATE TABLE IF NOT EXISTS outbox (
  seq         INTEGER PRIMARY KEY AUTOINCREMENT,
  command_id  TEXT NOT NULL UNIQUE,
  order_id    TEXT NOT NULL REFERENCES orders (order_id),
  routing_key TEXT NOT NULL,
  body        BLOB NOT NULL,
  created_at  TEXT NOT NULL,
  sent_at     TEXT
);
CREATE TABLE IF NOT EXISTS inbox (
  event_id    TEXT PRIMARY KEY,
  source      TEXT NOT NULL,
  type        TEXT NOT NULL,
  order_id    TEXT,
  received_at TEXT NOT NULL
);
`

// openDB opens (and creates) the SQLite database. WAL lets `status` read while `consume` writes; the busy timeout
// makes concurrent writers (place, relay, consume) wait for each other instead of failing.
func openDB(path string) (*sql.DB, error) {
	if strings.ContainsRune(path, '?') {
		return nil, fmt.Errorf("database path %q: must not contain '?'", path)
	}
	// A plain path (not a file: URI), the driver's settings after the '?'.
	dsn := path + "?_busy_timeout=10000&_journal_mode=WAL&_foreign_keys=on&_txlock=immediate"
	db, err := sql.Open("sqlite3", dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1) // one writer per process; SQLite serialises writers anyway
	if _, err := db.Exec(schema); err != nil {
		db.Close()
		return nil, fmt.Errorf("database %s: %w", path, err)
	}
	return db, nil
}
