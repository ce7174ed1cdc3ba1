package orders;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** The transactional outbox: an order row and its command are written in one transaction; the relay reads it. */
final class Outbox {
    /** An order and the payment it pays with: (provider, account, paymentId) is the status rule's key. */
    record Order(String orderId, String kind, String amount, String provider, String account, String paymentId,
                 String commandId) {}

    /** A command waiting in the outbox. */
    record Row(String commandId, String routingKey, String body) {}

    static final class DuplicateOrder extends Exception {
        DuplicateOrder(String orderId) { super("order " + orderId + " exists already"); }
    }

    private final Connection db;

    Outbox(Connection db) { this.db = db; }

    /** Writes the order row and its command in one transaction. */
    void place(Order o, String routingKey, String commandJson) throws SQLException, DuplicateOrder {
        db.setAutoCommit(false);
        try {
            try (PreparedStatement q = db.prepareStatement("SELECT 1 FROM orders WHERE order_id = ?")) {
                q.setString(1, o.orderId());
                if (q.executeQuery().next()) throw new DuplicateOrder(o.orderId());
            }
            try (PreparedStatement ins = db.prepareStatement("INSERT INTO orders (order_id, kind, amount, provider,"
                    + " account, payment_id, command_id) VALUES (?, ?, ?, ?, ?, ?, ?)")) {
                ins.setString(1, o.orderId());
                ins.setString(2, o.kind());
                ins.setString(3, o.amount());
                ins.setString(4, o.provider());
                ins.setString(5, o.account());
                ins.setString(6, o.paymentId());
                ins.setString(7, o.commandId());
                ins.executeUpdate();
            }
            try (PreparedStatement ins = db.prepareStatement("INSERT INTO outbox (command_id, order_id, routing_key,"
                    + " body, created_at) VALUES (?, ?, ?, ?, ?)")) {
                ins.setString(1, o.commandId());
                ins.setString(2, o.orderId());
                ins.setString(3, routingKey);
                ins.setString(4, commandJson);
                ins.setString(5, Instant.now().toString());
                ins.executeUpdate();
            }
            db.commit();
        } catch (SQLException | DuplicateOrder | RuntimeException e) {
            db.rollback();
            throw e;
        } finally {
            db.setAutoCommit(true);
        }
    }

    /** The unsent rows, oldest first. */
    List<Row> unsent() throws SQLException {
        List<Row> rows = new ArrayList<>();
        try (PreparedStatement q = db.prepareStatement(
                "SELECT command_id, routing_key, body FROM outbox WHERE sent_at IS NULL ORDER BY seq");
             ResultSet r = q.executeQuery()) {
            while (r.next()) rows.add(new Row(r.getString(1), r.getString(2), r.getString(3)));
        }
        return rows;
    }

    /** Marks a row sent: call only once the broker confirmed its publish. */
    void markSent(String commandId) throws SQLException {
        try (PreparedStatement u = db.prepareStatement(
                "UPDATE outbox SET sent_at = ? WHERE command_id = ? AND sent_at IS NULL")) {
            u.setString(1, Instant.now().toString());
            u.setString(2, commandId);
            u.executeUpdate();
        }
    }

    /** The order, or null. */
    Order order(String orderId) throws SQLException {
        try (PreparedStatement q = db.prepareStatement("SELECT order_id, kind, amount, provider, account, payment_id,"
                + " command_id FROM orders WHERE order_id = ?")) {
            q.setString(1, orderId);
            try (ResultSet r = q.executeQuery()) {
                if (!r.next()) return null;
                return new Order(r.getString(1), r.getString(2), r.getString(3), r.getString(4), r.getString(5),
                    r.getString(6), r.getString(7));
            }
        }
    }
}
