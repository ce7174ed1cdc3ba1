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
 * requeue (dead-lettered to the queue `<queue>.dead`) and logged. SIGTERM/SIGINT: cancel, finish the message in hand, close,
 * exit 0.
 */
final class EventConsumer {
    private static final int PREFETCH = 50;

    private final StatusProjection projection;
    private final String consumerUrl;
    private final String queue;
    private final Object inHand = new Object();          // held while a delivery is processed
    private final CountDownLatch stopped = new CountDownLatch(1);
    private volatile String failure;                     // why the consumer stopped on its own, if it did

    EventConsumer(StatusProjection projection, String consumerUrl, String queue) {
        this.projection = projection;
        this.consumerUrl = consumerUrl;
        this.queue = queue;
    }

    /** Runs until a signal (returns 0, through the shutdown hook) or a broker/database failure (returns 1). */
    int run() throws Exception {
        Connection conn = Broker.connect(consumerUrl, "consumer");
        Channel ch = conn.createChannel();
        // Poison goes to <queue>.dead (a fanout exchange and a queue of that name, both in the consumer's names).
        String dead = queue + ".dead";
        ch.exchangeDeclare(dead, BuiltinExchangeType.FANOUT, true);
        ch.queueDeclare(dead, true, false, false, Map.of("x-queue-type", "quorum"));
        ch.queueBind(dead, dead, "");
        ch.queueDeclare(queue, true, false, false, Map.of("x-queue-type", "quorum", "x-dead-letter-exchange", dead));
        ch.queueBind(queue, Broker.OUTCOMES, "#");
        ch.basicQos(PREFETCH);
        conn.addShutdownListener(cause -> {
            if (!cause.isInitiatedByApplication()) stop("connection lost: " + cause.getMessage());
        });
        String tag = ch.basicConsume(queue, false, (t, d) -> handle(ch, d),
            t -> stop("the broker cancelled the consumer (queue deleted?)"));
        Runtime.getRuntime().addShutdownHook(new Thread(() -> shutdown(conn, ch, tag), "shutdown"));
        System.out.println("ready");
        System.out.flush();
        stopped.await();
        System.err.println("consume: " + failure);
        return 1;
    }

    private void handle(Channel ch, Delivery d) throws java.io.IOException {
        synchronized (inHand) {
            long tag = d.getEnvelope().getDeliveryTag();
            Event e;
            try {
                e = Event.parse(d.getBody(), d.getProperties().getCorrelationId());
            } catch (Event.Poison p) {
                System.err.println("poison message " + d.getProperties().getMessageId() + " ("
                    + d.getEnvelope().getRoutingKey() + ", " + d.getBody().length + " bytes) rejected: " + p.getMessage());
                ch.basicReject(tag, false);
                return;
            }
            try {
                StatusProjection.Outcome outcome = projection.record(e);
                ch.basicAck(tag, false);  // after the commit
                System.err.println(outcome.name().toLowerCase() + " " + e.id() + " " + e.type() + " "
                    + e.provider() + "/" + e.account() + "/" + e.paymentId() + " " + e.status());
            } catch (java.sql.SQLException x) {
                // Not the message's fault: leave it unacked (it is redelivered once the connection closes) and stop.
                stop("database error on event " + e.id() + ": " + x.getMessage());
            }
        }
    }

    private void stop(String why) {
        if (failure == null) failure = why;
        stopped.countDown();
    }

    /** The shutdown hook: cancel, wait for the message in hand, close; then exit 0 (a signal is no failure). */
    private void shutdown(Connection conn, Channel ch, String tag) {
        boolean signalled = failure == null;
        try {
            if (ch.isOpen()) ch.basicCancel(tag);
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
        if (signalled) Runtime.getRuntime().halt(0);
    }
}
