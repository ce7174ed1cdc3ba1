package orders;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The self-check run by ./test: the status rule, the projection (inbox, order, duplicates) and the JSON reader. */
public final class SelfCheck {
    private static int checks;

    private SelfCheck() {}

    public static void main(String[] args) throws Exception {
        statusRule();
        projection();
        events();
        jsonAccepts();
        jsonRefuses();
        replies();
        System.out.println("self-check: " + checks + " checks passed");
    }

    static void check(boolean ok, String what) {
        checks++;
        if (!ok) throw new AssertionError(what);
    }

    static void equal(Object got, Object want, String what) {
        check(want == null ? got == null : want.equals(got), what + ": got " + got + ", want " + want);
    }

    // ---- the status rule (docs/contract.md) ----

    static final String T1 = "2026-11-21T06:00:01.000Z", T2 = "2026-11-21T06:00:02.000Z", T3 = "2026-11-21T06:00:03.000Z";

    static StatusProjection.State st(String status, String time) {
        return new StatusProjection.State(status, StatusProjection.FINAL.contains(status), time);
    }

    static void statusRule() {
        equal(StatusProjection.apply(null, "processing", T1), st("processing", T1), "first status is taken");
        equal(StatusProjection.apply(null, "unknown", T1), null, "unknown never moves");
        equal(StatusProjection.apply(null, "refunded", T1), null, "an unlisted status counts as unknown");
        equal(StatusProjection.apply(null, null, T1), null, "no status never moves");
        equal(StatusProjection.apply(st("processing", T3), "succeeded", T1), st("succeeded", T1),
            "final beats non-final, even an older final");
        equal(StatusProjection.apply(st("succeeded", T1), "requires_action", T3), null, "non-final never beats final");
        equal(StatusProjection.apply(st("succeeded", T1), "failed", T2), st("failed", T2), "newer final wins (correction)");
        equal(StatusProjection.apply(st("failed", T2), "succeeded", T1), null, "older final loses");
        equal(StatusProjection.apply(st("succeeded", T2), "failed", T2), null, "equal time keeps");
        equal(StatusProjection.apply(st("processing", T2), "requires_action", T2), null, "equal time keeps (non-final)");
        equal(StatusProjection.apply(st("processing", T1), "under_review", T2), st("under_review", T2),
            "newer non-final beats older non-final");
        equal(StatusProjection.apply(st("under_review", T2), "processing", T1), null, "older non-final loses");
        equal(StatusProjection.apply(st("succeeded", "2026-11-21T06:00:00.000Z"), "failed", "2026-11-21T07:00:00+01:00"),
            null, "times compare as instants (same instant, other offset: keep)");
        equal(StatusProjection.apply(st("succeeded", "2026-11-21T06:00:00.250Z"), "failed", "2026-11-21T06:00:00.5Z"),
            st("failed", "2026-11-21T06:00:00.5Z"), "fractions compare as instants");
        equal(StatusProjection.apply(st("failed", "2026-11-21T06:00:00Z"), "cancelled", "2026-11-21T06:30:00+01:00"),
            null, "an offset time that sorts later as text is earlier as an instant");
    }

    // ---- the projection over SQLite: out of order, duplicates, corrections, command.failed ----

    static byte[] event(String id, String type, String time, String paymentId, String status, String commandId,
                        String error) {
        Map<String, Object> data = Json.obj("commandId", commandId, "provider", "amanpay", "paymentId", paymentId,
            "status", status, "final", StatusProjection.FINAL.contains(status));
        if (error != null) data.put("error", Json.obj("code", error, "message", "m", "class", "invalid_command"));
        return Json.write(Json.obj("specversion", "1.0", "id", id, "type", "paybridge." + type + ".v1",
            "source", "/paybridge/worker", "time", time, "data", data)).getBytes(StandardCharsets.UTF_8);
    }

    static Event ev(byte[] body) throws Event.Poison {
        return Event.parse(body, null);
    }

    static Map<String, Object> statusAfter(List<byte[]> bodies, String correlationId) throws Exception {
        try (Connection db = Database.open(":memory:")) {
            Outbox outbox = new Outbox(db);
            outbox.place(new Outbox.Order("o1", "purchase", "1.00", "amanpay", "default", "o1", "cmd-1"),
                "amanpay.purchase", "{}");
            StatusProjection p = new StatusProjection(db);
            for (byte[] b : bodies) p.record(Event.parse(b, correlationId));
            return p.statusOf(outbox.order("o1"));
        }
    }

    static <T> List<List<T>> permutations(List<T> items) {
        List<List<T>> out = new ArrayList<>();
        if (items.isEmpty()) { out.add(new ArrayList<>()); return out; }
        for (int k = 0; k < items.size(); k++) {
            List<T> rest = new ArrayList<>(items);
            T head = rest.remove(k);
            for (List<T> p : permutations(rest)) { p.add(0, head); out.add(p); }
        }
        return out;
    }

    static void projection() throws Exception {
        byte[] response = event("e1", "payment.response", T1, "o1", "processing", "cmd-1", null);
        byte[] callback = event("e2", "payment.callback", T2, "o1", "succeeded", null, null);
        byte[] late = event("e3", "payment.response", T3, "o1", "requires_action", "cmd-1", null);
        byte[] failed = event("e4", "command.failed", T3, "o1", "unknown", "cmd-1", "TIMEOUT");
        for (List<byte[]> order : permutations(List.of(response, callback, late, failed))) {
            Map<String, Object> s = statusAfter(order, null);
            equal(s.get("status"), "succeeded", "any order: the final stays");
            equal(s.get("time"), T2, "any order: the final's time");
            equal(s.get("events"), 4L, "any order: four events");
            equal(s.get("lastError"), "TIMEOUT", "any order: command.failed's code");
        }
        Map<String, Object> dup = statusAfter(List.of(response, callback, callback, response), null);
        equal(dup.get("events"), 2L, "duplicates count once");
        equal(dup.get("status"), "succeeded", "duplicates change nothing");
        try (Connection db = Database.open(":memory:")) {
            StatusProjection p = new StatusProjection(db);
            equal(p.record(ev(callback)), StatusProjection.Outcome.MOVED, "first delivery moves");
            equal(p.record(ev(callback)), StatusProjection.Outcome.DUPLICATE, "second delivery is a duplicate");
        }
        // A FirstPay-style correction SUCCESS -> FAILED -> SUCCESS: three finals, the newest wins in any order.
        byte[] s1 = event("c1", "payment.callback", T1, "o1", "succeeded", null, null);
        byte[] f2 = event("c2", "payment.callback", T2, "o1", "failed", null, null);
        byte[] s3 = event("c3", "payment.callback", T3, "o1", "succeeded", null, null);
        for (List<byte[]> order : permutations(List.of(s1, f2, s3)))
            equal(statusAfter(order, null).get("time"), T3, "correction: the newest final wins");
        equal(statusAfter(List.of(s1, f2), null).get("status"), "failed", "correction succeeded -> failed");
        // command.failed never moves (even an old PayBridge's `failed` on it), is attributed by correlation id,
        // and lastError is the newest one's code.
        byte[] oldFailed = event("f1", "command.failed", T1, null, "failed", null, "UNKNOWN_ACCOUNT");
        byte[] newer = event("f2", "command.failed", T2, null, "unknown", null, "RETRIES");
        Map<String, Object> cf = statusAfter(List.of(newer, oldFailed), "cmd-1");
        equal(cf.get("status"), null, "command.failed never moves");
        equal(cf.get("final"), false, "no status: not final");
        equal(cf.get("lastError"), "RETRIES", "lastError: the newest command.failed");
        equal(cf.get("events"), 2L, "command.failed attributed by correlation id");
        equal(statusAfter(List.of(oldFailed), "cmd-other").get("events"), 0L, "another command's failure is not ours");
        // An event naming only the provider's payment id is placed by the mapping learned from an earlier event.
        Map<String, Object> withIds = Json.object(Json.parse(response));
        Json.object(withIds.get("data")).put("providerPaymentId", "tx-9");
        Map<String, Object> spec = Json.object(Json.parse(event("s1", "payment.callback", T2, null, "requires_action",
            null, null)));
        Json.object(spec.get("data")).put("providerPaymentId", "tx-9");
        Map<String, Object> placed = statusAfter(List.of(Json.write(withIds).getBytes(StandardCharsets.UTF_8),
            Json.write(spec).getBytes(StandardCharsets.UTF_8)), null);
        equal(placed.get("status"), "requires_action", "placed by providerPaymentId");
        equal(placed.get("events"), 2L, "both events are the order's");
    }

    static void events() {
        String[] poison = {"", "not json", "[]", "{\"specversion\":\"1.0\"}",
            "{\"specversion\":\"0.3\",\"id\":\"a\",\"type\":\"t\",\"source\":\"s\",\"time\":\"" + T1 + "\",\"data\":{}}",
            "{\"specversion\":\"1.0\",\"id\":\"a\",\"type\":\"t\",\"source\":\"s\",\"time\":\"yesterday\",\"data\":{}}",
            "{\"specversion\":\"1.0\",\"id\":\"a\",\"type\":\"t\",\"source\":\"s\",\"time\":\"" + T1 + "\",\"data\":\"x\"}",
            "{\"specversion\":\"1.0\",\"id\":\"\",\"type\":\"t\",\"source\":\"s\",\"time\":\"" + T1 + "\",\"data\":{}}"};
        for (String p : poison) {
            try {
                Event.parse(p.getBytes(StandardCharsets.UTF_8), null);
                check(false, "poison accepted: " + p);
            } catch (Event.Poison expected) {
                check(true, "poison refused");
            }
        }
    }

    // ---- JSON ----

    static void jsonAccepts() throws Exception {
        Map<String, Object> m = Json.object(Json.parse(
            " {\"a\":[1,-0.5,2e3,true,false,null],\"s\":\"\\u00e9\\ud83d\\ude00\\n\\\"\\/\",\"o\":{}} "));
        equal(Json.array(m.get("a")).get(0), new BigDecimal("1"), "integer");
        equal(Json.array(m.get("a")).get(2), new BigDecimal("2e3"), "exponent");
        equal(Json.array(m.get("a")).get(5), null, "null");
        equal(m.get("s"), "\u00e9\ud83d\ude00\n\"/", "escapes and a surrogate pair");
        equal(Json.parse("250.51"), new BigDecimal("250.51"), "decimals are exact");
        String written = Json.write(m);
        equal(Json.parse(written), m, "write then parse round-trips");
        equal(Json.write(Json.obj("c", "\u0001\t")), "{\"c\":\"\\u0001\\t\"}", "control characters are escaped");
        equal(Json.write("\ud800x\ud83d\ude00"), "\"\\ud800x\ud83d\ude00\"", "a lone surrogate is escaped, a pair kept");
        equal(Json.parse("[".repeat(Json.MAX_DEPTH) + "]".repeat(Json.MAX_DEPTH)) != null, true, "depth at the cap");
        equal(Json.parse("\"é\"".getBytes(StandardCharsets.UTF_8)), "é", "UTF-8 bytes");
    }

    static void jsonRefuses() {
        String[] bad = {"", " ", "{", "}", "[1,]", "{\"a\":1,}", "{\"a\" 1}", "{a:1}", "{'a':1}", "[1 2]", "01",
            "1.", ".5", "-", "+1", "1e", "NaN", "Infinity", "-Infinity", "tru", "nul", "\"abc", "\"\\x\"", "\"\\u12\"",
            "\"\\ud800\"", "\"\\udc00\"", "\"\\ud800\\u0041\"", "\"a\u0001b\"", "\"tab\there\"", "1 2", "{} x",
            "{\"a\":1,\"a\":2}", "/* c */ 1", "[1] // c", "\ufeff{}", "1e99999999999",
            "[".repeat(Json.MAX_DEPTH + 1) + "]".repeat(Json.MAX_DEPTH + 1),
            "{\"a\":".repeat(Json.MAX_DEPTH + 1) + "1" + "}".repeat(Json.MAX_DEPTH + 1),
            "[".repeat(500_000), "{\"a\":[".repeat(200_000)};
        for (String b : bad) {
            try {
                Json.parse(b);
                check(false, "accepted: " + (b.length() > 40 ? b.substring(0, 40) + "…" : b));
            } catch (Json.ParseException expected) {
                check(true, "refused");
            }
        }
        byte[][] badBytes = {{(byte) 0xC3}, {'"', (byte) 0xFF, '"'}, {'"', (byte) 0xED, (byte) 0xA0, (byte) 0x80, '"'},
            ("\"" + "x".repeat(Json.MAX_BYTES) + "\"").getBytes(StandardCharsets.UTF_8)};
        for (byte[] b : badBytes) {
            try {
                Json.parse(b);
                check(false, "accepted bytes of length " + b.length);
            } catch (Json.ParseException expected) {
                check(true, "refused bytes");
            }
        }
    }

    // ---- the payment-methods reply ----

    static void replies() throws Exception {
        String type = PaymentMethodsQuery.REPLY_TYPE;
        Map<String, Object> ok = Json.object(Json.parse("{\"type\":\"" + type + "\",\"data\":{\"queryId\":\"q\","
            + "\"methods\":[{\"id\":\"pm_bkash\",\"type\":\"PAY_IN\",\"currency\":\"BDT\",\"accountId\":12}]}}"));
        equal(PaymentMethodsQuery.methodsOf("q", ok).size(), 1, "methods are read");
        String[] failing = {"{\"type\":\"" + type + "\",\"data\":{\"error\":{\"code\":\"UNKNOWN_ACCOUNT\"}}}",
            "{\"type\":\"" + type + "\",\"data\":{}}", "{\"type\":\"other\",\"data\":{\"methods\":[]}}", "{}"};
        for (String f : failing) {
            try {
                PaymentMethodsQuery.methodsOf("q", Json.object(Json.parse(f)));
                check(false, "reply accepted: " + f);
            } catch (PaymentMethodsQuery.QueryFailed expected) {
                check(!f.contains("UNKNOWN_ACCOUNT") || expected.getMessage().contains("UNKNOWN_ACCOUNT"),
                    "the error code is reported");
            }
        }
    }
}
