package orders;

import com.rabbitmq.client.BuiltinExchangeType;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.Delivery;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

/**
 * Consumes PayBridge's events from its own quorum queue (bound to payments.outcomes with `#`), manual acks,
 * prefetch 50. Each event: inbox + projection in one transaction, ack after the commit. Poison is rejected without
 * requeue (dead-lettered to the queue `<queue>.dead`) and logged. SIGTERM/SIGINT: a shutdown hook cancels the
 * consumer, waits for the message in hand, closes the connection and ends the process with status 0.
 */
final class EventConsumer {
    private static final int PREFETCH = 50;
    private static final int DELIVERY_LIMIT = 20;

    private final StatusProjection projection;
    private final String consumerUrl;
    private final String queue;
    private final Object inHand = new Object();          // held while a delivery is processed
    private final CountDownLatch stopped = new CountDownLatch(1);
    private volatile String failure;                     // why the consumer stopped on its own, if it did
    private volatile boolean closing;                    // the shutdown hook runs
    private volatile Connection conn;
    private volatile Channel ch;
    private volatile String consumerTag;

    EventConsumer(StatusProjection projection, String consumerUrl, String queue) {
        this.projection = projection;
        this.consumerUrl = consumerUrl;
        this.queue = queue;
    }

    /** Runs until a signal (the shutdown hook then ends the process with 0) or a failure (returns 1). */
    int run() throws Exception {
        conn = Broker.connect(consumerUrl, "consumer");
        Runtime.getRuntime().addShutdownHook(new Thread(this::shutdown, "shutdown"));
        try {
            conn.addShutdownListener(cause -> {
                if (!cause.isInitiatedByApplication()) stop("connection lost: " + cause.getMessage());
            });
            ch = conn.createChannel();
            declare();
            ch.basicQos(PREFETCH);
            consumerTag = ch.basicConsume(queue, false, (t, d) -> handle(d),
                t -> stop("the broker cancelled the consumer (queue deleted?)"),
                (t, cause) -> {
                    if (!cause.isInitiatedByApplication()) stop("channel closed: " + cause.getMessage());
                });
        } catch (Exception e) {
            failure = "setup failed";  // the shutdown hook then leaves the exit status to Main
            throw e;
        }
        System.out.println("ready");
        System.out.flush();
        stopped.await();
        System.err.println("consume: " + failure);
        return 1;
    }

    /**
     * The quorum queue bound to payments.outcomes with `#`. Poison goes to `<queue>.dead`: a fanout exchange and a
     * queue of that name (the consumer role may declare only consumer.* names, not use the default exchange), as
     * does a message redelivered DELIVERY_LIMIT times (e.g. after repeated database failures).
     */
    private void declare() throws java.io.IOException {
        String dead = queue + ".dead";
        ch.exchangeDeclare(dead, BuiltinExchangeType.FANOUT, true);
        ch.queueDeclare(dead, true, false, false, Map.of("x-queue-type", "quorum"));
        ch.queueBind(dead, dead, "");
        ch.queueDeclare(queue, true, false, false, Map.of("x-queue-type", "quorum", "x-dead-letter-exchange", dead,
            "x-delivery-limit", DELIVERY_LIMIT));
        ch.queueBind(queue, Broker.OUTCOMES, "#");
    }

    private void handle(Delivery d) throws java.io.IOException {
        synchronized (inHand) {
            long tag = d.getEnvelope().getDeliveryTag();
            Event e;
            try {
                e = Event.parse(d.getBody(), d.getProperties().getCorrelationId());
            } catch (Event.Poison p) {
                System.err.println("poison message " + d.getProperties().getMessageId() + " (" + d.getEnvelope()
                    .getRoutingKey() + ", " + d.getBody().length + " bytes) rejected: " + p.getMessage());
                ch.basicReject(tag, false);
                return;
            }
            StatusProjection.Outcome outcome;
            try {
                outcome = projection.record(e);
            } catch (java.sql.SQLException | RuntimeException x) {
                // Not the message's fault: leave it unacked (redelivered once the connection closes) and stop.
                stop("database error on event " + e.id() + ": " + x);
                return;
            }
            ch.basicAck(tag, false);  // after the commit
            System.err.println(outcome.name().toLowerCase() + " " + e.id() + " " + e.type() + " "
                + e.provider() + "/" + e.account() + "/" + e.paymentId() + " " + e.status());
        }
    }

    private void stop(String why) {
        if (closing) return;  // our own close, on the way out
        if (failure == null) failure = why;
        stopped.countDown();
    }

    /** The shutdown hook: cancel, wait for the message in hand, close; then exit 0 (a signal is no failure). */
    private void shutdown() {
        boolean signalled = failure == null;
        closing = true;
        try {
            if (ch != null && ch.isOpen() && consumerTag != null) ch.basicCancel(consumerTag);
        } catch (Exception ignored) {
            // the channel is already gone: nothing is in hand then either
        }
        synchronized (inHand) {
            try {
                if (conn.isOpen()) conn.close(5_000);
            } catch (Exception ignored) {
                // closing is best effort on the way out
            }
        }
        if (signalled) {
            System.err.println("consume: stopped");
            Runtime.getRuntime().halt(0);
        }
    }
}
