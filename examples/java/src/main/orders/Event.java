package orders;

import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.Map;

/**
 * The fields of a PayBridge event (a CloudEvent, docs/contract.md "Events") the projection needs. A body that is not
 * a CloudEvent with an id, a type, a source, an RFC 3339 time and an object `data` is poison.
 */
record Event(String id, String source, String type, String time, String provider, String account, String paymentId,
             String providerPaymentId, String commandId, String status, String errorCode) {

    static final String COMMAND_FAILED = "paybridge.command.failed.v1";

    static final class Poison extends Exception {
        Poison(String message) { super(message); }
    }

    /** Reads a delivery's body; {@code correlationId} (the AMQP property) stands in for a missing data.commandId. */
    static Event parse(byte[] body, String correlationId) throws Poison {
        Map<String, Object> e;
        try {
            e = Json.object(Json.parse(body));
        } catch (Json.ParseException x) {
            throw new Poison("not JSON: " + x.getMessage());
        }
        if (e == null) throw new Poison("not a JSON object");
        if (!"1.0".equals(e.get("specversion"))) throw new Poison("not a CloudEvent 1.0 (specversion)");
        String id = nonEmpty(e, "id"), type = nonEmpty(e, "type"), source = nonEmpty(e, "source");
        String time = nonEmpty(e, "time");
        try {
            OffsetDateTime.parse(time);
        } catch (DateTimeParseException x) {
            throw new Poison("time is not RFC 3339: " + time);
        }
        Map<String, Object> data = Json.object(e.get("data"));
        if (data == null) throw new Poison("data is not an object");
        String account = Json.string(data, "account");
        String commandId = Json.string(data, "commandId");
        Map<String, Object> error = Json.object(data.get("error"));
        return new Event(id, source, type, time, Json.string(data, "provider"), account == null ? "default" : account,
            Json.string(data, "paymentId"), Json.string(data, "providerPaymentId"),
            commandId != null ? commandId : correlationId, Json.string(data, "status"), Json.string(error, "code"));
    }

    private static String nonEmpty(Map<String, Object> e, String name) throws Poison {
        String v = Json.string(e, name);
        if (v == null || v.isEmpty()) throw new Poison("no " + name);
        return v;
    }
}
