package orders;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.TimeoutException;

/**
 * Publishes every unsent outbox row to payments.commands, mandatory, with publisher confirms. A row is marked sent
 * only once the broker confirmed it and did not return it; a returned, nacked or unconfirmed row stays unsent.
 */
final class Relay {
    static final int EXIT_NOT_SENT = 3;
    private static final long CONFIRM_TIMEOUT_MS = 30_000;

    private final Outbox outbox;
    private final String producerUrl;

    Relay(Outbox outbox, String producerUrl) {
        this.outbox = outbox;
        this.producerUrl = producerUrl;
    }

    /** Returns the exit status: 0 when every row was sent, 3 when one was returned or nacked, 1 otherwise. */
    int run() throws Exception {
        List<Outbox.Row> rows = outbox.unsent();
        if (rows.isEmpty()) return 0;
        NavigableMap<Long, String> pending = new ConcurrentSkipListMap<>();  // publish sequence number -> command id
        Set<String> acked = ConcurrentHashMap.newKeySet();
        Set<String> nacked = ConcurrentHashMap.newKeySet();
        Map<String, String> returned = new ConcurrentHashMap<>();            // command id -> reason
        String broken = null;                                                // why publishing stopped, if it did
        try (Connection conn = Broker.connect(producerUrl, "relay")) {
            Channel ch = conn.createChannel();
            ch.confirmSelect();
            // The broker sends basic.return before the basic.ack of the same message: `returned` is complete when
            // the ack arrives.
            ch.addReturnListener(r -> returned.put(String.valueOf(r.getProperties().getMessageId()),
                r.getReplyCode() + " " + r.getReplyText()));
            ch.addConfirmListener((seq, multiple) -> settle(pending, seq, multiple, acked),
                (seq, multiple) -> settle(pending, seq, multiple, nacked));
            try {
                for (Outbox.Row row : rows) {
                    pending.put(ch.getNextPublishSeqNo(), row.commandId());
                    ch.basicPublish(Broker.COMMANDS, row.routingKey(), true,
                        Broker.commandProperties(row.commandId()).build(), row.body().getBytes(StandardCharsets.UTF_8));
                }
                ch.waitForConfirms(CONFIRM_TIMEOUT_MS);
            } catch (TimeoutException e) {
                broken = "no confirm within " + CONFIRM_TIMEOUT_MS + " ms";
            } catch (RuntimeException | java.io.IOException e) {  // e.g. the channel closed: NOT_FOUND exchange
                broken = "publishing failed: " + Broker.describe(e);
            }
        } catch (Exception e) {  // connecting failed, or closing a connection the broker already closed
            if (broken == null) broken = Broker.describe(e);
        }
        int status = 0;
        for (Outbox.Row row : rows) {
            String id = row.commandId();
            if (returned.containsKey(id)) {
                System.err.println("returned " + id + " (" + row.routingKey() + "): " + returned.get(id)
                    + "; the row stays unsent (is the topology declared? `paybridge topology`)");
                status = EXIT_NOT_SENT;
            } else if (nacked.contains(id)) {
                System.err.println("nacked " + id + "; the row stays unsent");
                status = EXIT_NOT_SENT;
            } else if (acked.contains(id)) {
                outbox.markSent(id);
                System.out.println("sent " + id);
            } else {
                System.err.println("unconfirmed " + id + "; the row stays unsent");
                if (status == 0) status = 1;
            }
        }
        if (broken != null) System.err.println("relay: " + broken);
        return status;
    }

    private static void settle(NavigableMap<Long, String> pending, long seq, boolean multiple, Set<String> into) {
        Map<Long, String> done = multiple ? pending.headMap(seq, true) : pending.subMap(seq, true, seq, true);
        into.addAll(done.values());
        done.clear();
    }
}
