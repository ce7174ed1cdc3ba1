package orders;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.Map;
import java.util.Set;

/**
 * The payments projection: docs/contract.md, "The status rule", applied per payment (provider, account, paymentId)
 * as events arrive; the inbox row and the projection change are written in one transaction.
 */
final class StatusProjection {
    static final Set<String> FINAL = Set.of("succeeded", "failed", "cancelled");
    static final Set<String> KNOWN = Set.of("processing", "requires_action", "under_review",
        "succeeded", "failed", "cancelled");

    /** A payment's projected state. */
    record State(String status, boolean fin, String time) {}

    /** What {@link #record} did with an event. */
    enum Outcome { DUPLICATE, KEPT, MOVED }

    /**
     * The status rule: the state after {@code event} (status, time) is applied to {@code held} (null: no status yet),
     * or null when the payment keeps what it has. Unknown and unlisted statuses never move the payment; a final status
     * beats any non-final one and any older final one; a non-final one beats only an older non-final one; equal
     * times keep what is held.
     */
    static State apply(State held, String status, String time) {
        if (status == null || !KNOWN.contains(status)) return null;
        boolean fin = FINAL.contains(status);
        State taken = new State(status, fin, time);
        if (held == null) return taken;
        if (fin && !held.fin()) return taken;
        if (fin == held.fin() && instant(time).isAfter(instant(held.time()))) return taken;
        return null;
    }

    /** RFC 3339 times compare as instants. */
    static Instant instant(String rfc3339) {
        return OffsetDateTime.parse(rfc3339).toInstant();
    }

    private final Connection db;

    StatusProjection(Connection db) { this.db = db; }

    /** Records an event in the inbox and applies it to its payment, in one transaction (committed on return). */
    Outcome record(Event e) throws SQLException {
        db.setAutoCommit(false);
        try {
            Outcome outcome = recordIn(e);
            db.commit();
            return outcome;
        } catch (SQLException | RuntimeException x) {
            db.rollback();
            throw x;
        } finally {
            db.setAutoCommit(true);
        }
    }

    private Outcome recordIn(Event e) throws SQLException {
        String paymentId = e.paymentId();
        if (paymentId == null && e.providerPaymentId() != null) paymentId = paymentOfProviderId(e);
        else if (paymentId != null && e.providerPaymentId() != null) rememberProviderId(e);
        int inserted = update("INSERT OR IGNORE INTO inbox (event_id, source, type, time, provider, account,"
                + " payment_id, command_id, status, error_code, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            e.id(), e.source(), e.type(), e.time(), e.provider(), e.account(), paymentId, e.commandId(), e.status(),
            e.errorCode(), Instant.now().toString());
        if (inserted == 0) return Outcome.DUPLICATE;
        // command.failed says nothing about the payment (older PayBridge versions said failed on it: ignored).
        if (paymentId == null || e.provider() == null || Event.COMMAND_FAILED.equals(e.type())) return Outcome.KEPT;
        State next = apply(held(e.provider(), e.account(), paymentId), e.status(), e.time());
        if (next == null) return Outcome.KEPT;
        update("INSERT OR REPLACE INTO payments (provider, account, payment_id, status, final, time)"
            + " VALUES (?, ?, ?, ?, ?, ?)", e.provider(), e.account(), paymentId, next.status(), next.fin() ? 1 : 0,
            next.time());
        return Outcome.MOVED;
    }

    /** The payment's state, or null when nothing has moved it yet. */
    State held(String provider, String account, String paymentId) throws SQLException {
        try (PreparedStatement q = db.prepareStatement(
                "SELECT status, final, time FROM payments WHERE provider = ? AND account = ? AND payment_id = ?")) {
            bind(q, provider, account, paymentId);
            try (ResultSet r = q.executeQuery()) {
                return r.next() ? new State(r.getString(1), r.getInt(2) == 1, r.getString(3)) : null;
            }
        }
    }

    /** The `status` line of an order: {"order","status","final","time","lastError","events"}. */
    Map<String, Object> statusOf(Outbox.Order o) throws SQLException {
        State s = held(o.provider(), o.account(), o.paymentId());
        String lastError = null, lastErrorTime = null;
        try (PreparedStatement q = db.prepareStatement("SELECT error_code, time FROM inbox WHERE type = ?"
                + " AND command_id = ? AND error_code IS NOT NULL")) {
            bind(q, Event.COMMAND_FAILED, o.commandId());
            try (ResultSet r = q.executeQuery()) {
                while (r.next()) {
                    if (lastErrorTime == null || instant(r.getString(2)).isAfter(instant(lastErrorTime))) {
                        lastError = r.getString(1);
                        lastErrorTime = r.getString(2);
                    }
                }
            }
        }
        long events;
        try (PreparedStatement q = db.prepareStatement("SELECT COUNT(*) FROM inbox WHERE"
                + " (provider = ? AND account = ? AND payment_id = ?) OR command_id = ?")) {
            bind(q, o.provider(), o.account(), o.paymentId(), o.commandId());
            try (ResultSet r = q.executeQuery()) {
                r.next();
                events = r.getLong(1);
            }
        }
        return Json.obj("order", o.orderId(), "status", s == null ? null : s.status(), "final", s != null && s.fin(),
            "time", s == null ? null : s.time(), "lastError", lastError, "events", events);
    }

    private String paymentOfProviderId(Event e) throws SQLException {
        try (PreparedStatement q = db.prepareStatement("SELECT payment_id FROM provider_ids"
                + " WHERE provider = ? AND account = ? AND provider_payment_id = ?")) {
            bind(q, e.provider(), e.account(), e.providerPaymentId());
            try (ResultSet r = q.executeQuery()) {
                return r.next() ? r.getString(1) : null;
            }
        }
    }

    private void rememberProviderId(Event e) throws SQLException {
        if (e.provider() == null) return;
        update("INSERT OR IGNORE INTO provider_ids (provider, account, provider_payment_id, payment_id)"
            + " VALUES (?, ?, ?, ?)", e.provider(), e.account(), e.providerPaymentId(), e.paymentId());
    }

    private int update(String sql, Object... args) throws SQLException {
        try (PreparedStatement u = db.prepareStatement(sql)) {
            bind(u, args);
            return u.executeUpdate();
        }
    }

    private static void bind(PreparedStatement p, Object... args) throws SQLException {
        for (int k = 0; k < args.length; k++) p.setObject(k + 1, args[k]);
    }
}
