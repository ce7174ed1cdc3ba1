package orders;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Asks PayBridge for FirstPay's payment methods (paybridge.firstpay.payment_methods.v1) over RabbitMQ's direct
 * reply-to: consume amq.rabbitmq.reply-to (auto-ack) on a channel, then publish the request on the same channel.
 */
final class PaymentMethodsQuery {
    static final String TYPE = "paybridge.firstpay.payment_methods.v1";
    static final String REPLY_TYPE = "paybridge.firstpay.payment_methods.reply.v1";
    private static final String REPLY_TO = "amq.rabbitmq.reply-to";
    private static final long TIMEOUT_MS = 15_000;

    /** PayBridge answered with an error (data.error), or not at all. */
    static final class QueryFailed extends Exception {
        QueryFailed(String message) { super(message); }
    }

    private final String producerUrl;

    PaymentMethodsQuery(String producerUrl) { this.producerUrl = producerUrl; }

    /** The reply's data.methods (each an object), or QueryFailed. */
    List<Object> methods(String orderId, String userId, String amount, String type) throws Exception {
        String queryId = UUID.randomUUID().toString();
        Map<String, Object> data = Json.obj("merchantPaymentId", orderId, "merchantUserId", userId,
            "amount", amount, "type", type);
        BlockingQueue<Object> answers = new ArrayBlockingQueue<>(4);  // a reply's parsed body, or a String reason
        try (Connection conn = Broker.connect(producerUrl, "payment-methods")) {
            Channel ch = conn.createChannel();
            ch.basicConsume(REPLY_TO, true, (tag, d) -> {
                if (!queryId.equals(d.getProperties().getCorrelationId())) return;  // not ours: a late reply
                try {
                    answers.offer(Json.parse(d.getBody()));
                } catch (Json.ParseException e) {
                    answers.offer("unreadable reply: " + e.getMessage());
                }
            }, tag -> answers.offer("reply consumer cancelled"));
            ch.addReturnListener(r -> answers.offer("request returned: " + r.getReplyCode() + " " + r.getReplyText()
                + " (is PayBridge's topology declared?)"));
            ch.addShutdownListener(cause -> {  // e.g. NOT_FOUND: no exchange payments.commands
                if (!cause.isInitiatedByApplication()) answers.offer("the query's channel closed: " + cause);
            });
            AMQP.BasicProperties props = Broker.commandProperties(queryId)
                .replyTo(REPLY_TO).correlationId(queryId).expiration(String.valueOf(2 * TIMEOUT_MS)).build();
            ch.basicPublish(Broker.COMMANDS, "firstpay.payment_methods", true, props,
                Broker.cloudEvent(queryId, TYPE, data).getBytes(StandardCharsets.UTF_8));
            Object answer = answers.poll(TIMEOUT_MS, TimeUnit.MILLISECONDS);
            if (answer == null) throw new QueryFailed("no reply to the payment-methods query " + queryId + " within "
                + TIMEOUT_MS / 1000 + " s (is PayBridge running, and does it answer payment_methods?)");
            if (answer instanceof String) throw new QueryFailed((String) answer);
            return methodsOf(queryId, Json.object(answer));
        }
    }

    /** Reads a reply's data: its methods, or its error as QueryFailed. */
    static List<Object> methodsOf(String queryId, Map<String, Object> reply) throws QueryFailed {
        Map<String, Object> replyData = Json.object(reply == null ? null : reply.get("data"));
        if (replyData == null || !REPLY_TYPE.equals(Json.string(reply, "type")))
            throw new QueryFailed("reply to " + queryId + " is not a " + REPLY_TYPE + " CloudEvent with data");
        Map<String, Object> error = Json.object(replyData.get("error"));
        if (error != null) throw new QueryFailed("payment-methods query " + queryId + " failed: "
            + Json.string(error, "code") + " (" + Json.string(error, "class") + "): " + Json.string(error, "message"));
        List<Object> methods = Json.array(replyData.get("methods"));
        if (methods == null) throw new QueryFailed("reply to " + queryId + " has neither methods nor error");
        return methods;
    }
}
