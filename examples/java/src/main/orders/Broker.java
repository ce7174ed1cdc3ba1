package orders;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import java.time.Instant;
import java.util.Date;

/** Broker connections and the properties every PayBridge message carries. */
final class Broker {
    static final String COMMANDS = "payments.commands";
    static final String OUTCOMES = "payments.outcomes";
    static final String CLOUDEVENTS_JSON = "application/cloudevents+json";

    private Broker() {}

    /** Connects without automatic recovery: a lost connection ends the command (the caller reports it). */
    static Connection connect(String url, String name) throws Exception {
        ConnectionFactory f = new ConnectionFactory();
        f.setUri(url);
        f.setAutomaticRecoveryEnabled(false);
        f.setConnectionTimeout(10_000);
        return f.newConnection("orders-java " + name);
    }

    /** Properties of a command: persistent CloudEvents JSON, message id = command id. */
    static AMQP.BasicProperties.Builder commandProperties(String commandId) {
        return new AMQP.BasicProperties.Builder()
            .contentType(CLOUDEVENTS_JSON).deliveryMode(2).messageId(commandId)
            .timestamp(Date.from(Instant.now())).appId("orders-java");
    }

    /** A CloudEvents 1.0 command envelope (structured JSON mode). */
    static String cloudEvent(String id, String type, Object data) {
        return Json.write(Json.obj("specversion", "1.0", "id", id, "type", type, "source", "/orders/orders-java",
            "time", Instant.now().toString(), "datacontenttype", "application/json", "data", data));
    }

    /** An exception with the broker's reason (NOT_FOUND, ACCESS_REFUSED, …), kept by the AMQP client in the cause. */
    static String describe(Exception e) {
        String text = e.toString();
        String cause = e.getCause() == null ? null : e.getCause().getMessage();
        return cause == null || text.contains(cause) ? text : text + ": " + cause;
    }
}
