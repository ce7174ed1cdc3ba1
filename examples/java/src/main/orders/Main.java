package orders;

import java.sql.Connection;

/** The command line of examples/README.md: place, relay, consume, status. */
public final class Main {
    private static final String DEFAULT_URL = "amqp://guest:guest@127.0.0.1:5672/%2F";
    private static final String USAGE = String.join("\n",
        "usage: ./run place purchase|payin|failing ORDER AMOUNT",
        "       ./run relay",
        "       ./run consume",
        "       ./run status ORDER");

    private Main() {}

    public static void main(String[] args) {
        int status;
        try {
            status = run(args);
        } catch (Orders.Refused | Outbox.DuplicateOrder | PaymentMethodsQuery.QueryFailed e) {
            System.err.println(e.getMessage());
            status = 1;
        } catch (Exception e) {
            System.err.println("error: " + Broker.describe(e));
            status = 1;
        }
        System.out.flush();
        System.exit(status);
    }

    private static int run(String[] a) throws Exception {
        String command = a.length > 0 ? a[0] : "";
        boolean ok = (command.equals("place") && a.length == 4) || (command.equals("relay") && a.length == 1)
            || (command.equals("consume") && a.length == 1) || (command.equals("status") && a.length == 2);
        if (!ok) {
            System.err.println(USAGE);
            return 2;
        }
        try (Connection db = Database.open(env("EXAMPLE_DB", "./orders.db"))) {
            Outbox outbox = new Outbox(db);
            switch (command) {
                case "place":
                    String commandId = new Orders(outbox, env("PAYBRIDGE_PRODUCER_URL", DEFAULT_URL),
                        env("EXAMPLE_WALLET", "01712345678")).place(a[1], a[2], a[3]);
                    System.out.println("placed " + a[2] + " command " + commandId);
                    return 0;
                case "relay":
                    return new Relay(outbox, env("PAYBRIDGE_PRODUCER_URL", DEFAULT_URL)).run();
                case "consume":
                    return new EventConsumer(new StatusProjection(db), env("PAYBRIDGE_CONSUMER_URL", DEFAULT_URL),
                        env("EXAMPLE_QUEUE", "consumer.orders-java.payments")).run();
                default:
                    Outbox.Order order = outbox.order(a[1]);
                    if (order == null) {
                        System.err.println("no order " + a[1]);
                        return 1;
                    }
                    System.out.println(Json.write(new StatusProjection(db).statusOf(order)));
                    return 0;
            }
        }
    }

    private static String env(String name, String fallback) {
        String v = System.getenv(name);
        return v == null || v.isEmpty() ? fallback : v;
    }
}
