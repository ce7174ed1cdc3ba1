package orders;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;

/** The SQLite database: orders + outbox (written together), inbox + payments (written together). */
final class Database {
    private static final String[] SCHEMA = {
        // One row per order; (provider, account, payment_id) is the payment the status rule keys on.
        "CREATE TABLE IF NOT EXISTS orders (order_id TEXT PRIMARY KEY, kind TEXT NOT NULL, amount TEXT NOT NULL,"
            + " provider TEXT NOT NULL, account TEXT NOT NULL, payment_id TEXT NOT NULL, command_id TEXT NOT NULL)",
        // The outbox: a command is sent once the broker confirmed it (sent_at not null).
        "CREATE TABLE IF NOT EXISTS outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, command_id TEXT NOT NULL UNIQUE,"
            + " order_id TEXT NOT NULL, routing_key TEXT NOT NULL, body TEXT NOT NULL, created_at TEXT NOT NULL,"
            + " sent_at TEXT)",
        // The inbox: one row per event id ever applied, with what the status query needs.
        "CREATE TABLE IF NOT EXISTS inbox (event_id TEXT PRIMARY KEY, source TEXT NOT NULL, type TEXT NOT NULL,"
            + " time TEXT NOT NULL, provider TEXT, account TEXT, payment_id TEXT, command_id TEXT, status TEXT,"
            + " error_code TEXT, received_at TEXT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS inbox_payment ON inbox (provider, account, payment_id)",
        "CREATE INDEX IF NOT EXISTS inbox_command ON inbox (command_id)",
        // The projection: per payment, the status the contract's status rule gives.
        "CREATE TABLE IF NOT EXISTS payments (provider TEXT NOT NULL, account TEXT NOT NULL, payment_id TEXT NOT NULL,"
            + " status TEXT NOT NULL, final INTEGER NOT NULL, time TEXT NOT NULL,"
            + " PRIMARY KEY (provider, account, payment_id))",
        // The provider's payment id -> our payment id, learned from events that name both (for events naming only
        // the provider's id, e.g. Amanpay SPECIFICATION callbacks).
        "CREATE TABLE IF NOT EXISTS provider_ids (provider TEXT NOT NULL, account TEXT NOT NULL,"
            + " provider_payment_id TEXT NOT NULL, payment_id TEXT NOT NULL,"
            + " PRIMARY KEY (provider, account, provider_payment_id))",
    };

    private Database() {}

    /** Opens the database (creating the schema), in autocommit mode. */
    static Connection open(String path) throws SQLException {
        Connection c = DriverManager.getConnection("jdbc:sqlite:" + path);
        try (Statement st = c.createStatement()) {
            st.execute("PRAGMA busy_timeout = 10000");  // `consume` and `place`/`status` may run side by side
            st.execute("PRAGMA journal_mode = WAL");
            for (String ddl : SCHEMA) st.execute(ddl);
        } catch (SQLException e) {
            c.close();
            throw e;
        }
        return c;
    }
}
