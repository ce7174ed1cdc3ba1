package orders;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/** `place`: builds an order's payment command and writes both through the outbox. */
final class Orders {
    /** docs/integration.md, "Publishing commands": amounts are decimal strings of this form. */
    private static final Pattern AMOUNT = Pattern.compile("^(0\\.(0[1-9]|[1-9][0-9]?)|[1-9][0-9]*(\\.[0-9]{1,2})?)$");

    static final class Refused extends Exception {
        Refused(String message) { super(message); }
    }

    private final Outbox outbox;
    private final String producerUrl;
    private final String wallet;

    Orders(Outbox outbox, String producerUrl, String wallet) {
        this.outbox = outbox;
        this.producerUrl = producerUrl;
        this.wallet = wallet;
    }

    /** Places an order of the given kind (purchase, payin, failing); returns its command id. */
    String place(String kind, String orderId, String amount) throws Exception {
        if (amount.length() > 16 || !AMOUNT.matcher(amount).matches())
            throw new Refused("amount must be a decimal string like 250.50 (at most two fraction digits): " + amount);
        if (orderId.isEmpty() || orderId.length() > 100) throw new Refused("order id must be 1 to 100 characters");
        if (outbox.order(orderId) != null) throw new Outbox.DuplicateOrder(orderId);
        String commandId = UUID.randomUUID().toString();
        switch (kind) {
            case "purchase": return purchase(kind, orderId, amount, commandId, "default");
            case "failing": return purchase(kind, orderId, amount, commandId, "nosuch");  // an account PayBridge lacks
            case "payin": return payIn(orderId, amount, commandId);
            default: throw new Refused("unknown order kind " + kind + " (purchase, payin, failing)");
        }
    }

    private String purchase(String kind, String orderId, String amount, String commandId, String account)
            throws Exception {
        Map<String, Object> data = Json.obj("paymentId", orderId, "amount", amount, "currency", "BDT",
            "customerEmail", "customer-" + orderId + "@example.com", "paymentMethod", "bkash", "bkashNumber", wallet);
        if (!account.equals("default")) data.put("account", account);
        outbox.place(new Outbox.Order(orderId, kind, amount, "amanpay", account, orderId, commandId),
            "amanpay.purchase", Broker.cloudEvent(commandId, "paybridge.amanpay.purchase.v1", data));
        return commandId;
    }

    private String payIn(String orderId, String amount, String commandId) throws Exception {
        String userId = "user-" + orderId;
        List<Object> methods = new PaymentMethodsQuery(producerUrl).methods(orderId, userId, amount, "PAY_IN");
        Map<String, Object> method = null;
        for (Object m : methods) {
            Map<String, Object> o = Json.object(m);
            if (o != null && "PAY_IN".equals(Json.string(o, "type")) && "BDT".equals(Json.string(o, "currency"))) {
                method = o;
                break;
            }
        }
        if (method == null)
            throw new Refused("FirstPay offers no PAY_IN method in BDT (" + methods.size() + " methods)");
        String methodId = Json.string(method, "id");
        Object accountId = method.get("accountId");
        if (methodId == null || !(accountId instanceof BigDecimal))
            throw new Refused("method " + methodId + " has no id or no accountId: " + Json.write(method));
        Map<String, Object> data = Json.obj("accountId", integer((BigDecimal) accountId), "paymentMethodId", methodId,
            "amount", amount, "clientFieldsValues", fieldValues(method), "merchantPaymentId", orderId,
            "merchantUserId", userId);
        outbox.place(new Outbox.Order(orderId, "payin", amount, "firstpay", "default", orderId, commandId),
            "firstpay.pay_in", Broker.cloudEvent(commandId, "paybridge.firstpay.pay_in.v1", data));
        return commandId;
    }

    /** The customer's wallet for every client field, checked against the field's pattern when it has one. */
    private List<Object> fieldValues(Map<String, Object> method) throws Refused {
        List<Object> values = new ArrayList<>();
        List<Object> fields = Json.array(method.get("clientFields"));
        for (Object f : fields == null ? List.<Object>of() : fields) {
            String key = Json.string(Json.object(f), "key");
            if (key == null) throw new Refused("a client field without key: " + Json.write(f));
            String pattern = Json.string(Json.object(f), "pattern");
            try {
                if (pattern != null && !Pattern.compile(pattern).matcher(wallet).find())
                    throw new Refused("wallet " + wallet + " does not match field " + key + "'s pattern " + pattern);
            } catch (PatternSyntaxException e) {
                System.err.println("field " + key + ": pattern " + pattern + " not checked: " + e.getDescription());
            }
            values.add(Json.obj("key", key, "value", wallet));
        }
        return values;
    }

    private static BigDecimal integer(BigDecimal v) throws Refused {
        try {
            return new BigDecimal(v.toBigIntegerExact());
        } catch (ArithmeticException e) {
            throw new Refused("accountId is not an integer: " + v);
        }
    }
}
