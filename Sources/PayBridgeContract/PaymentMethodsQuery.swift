import PaymentVocabulary
import StrictJSON

/// An order service asking for FirstPay's payment methods (`paybridge.firstpay.payment_methods.v1`, routing key
/// `firstpay.payment_methods`): a request/reply query over RabbitMQ's direct reply-to, answered by a
/// ``PaymentMethodsReply``. Not a command: nothing is created, stored or published as an outcome event, and every
/// query fetches afresh (FirstPay: "fetch right before showing a payment page; never cache").
public struct PaymentMethodsQuery: Sendable, Equatable {
    /// The CloudEvents type of a query.
    public static let type = "paybridge.firstpay.payment_methods.v1"
    /// The routing key a query is published with on `payments.commands` (it lands on FirstPay's command queue).
    public static let routingKey = "firstpay.payment_methods"
    /// The only `reply_to` values PayBridge answers: RabbitMQ's direct reply-to names. A producer's role may not
    /// declare queues, and PayBridge must never be made to publish into a queue of its own or of a consumer.
    public static let replyToPrefix = "amq.rabbitmq.reply-to."

    /// The query's `id` (named in the reply as `queryId`).
    public let id: String
    /// The merchant account whose keys ask FirstPay (`data.account`; absent: `default`).
    public let account: MerchantAccount
    public let merchantPaymentId: String
    public let merchantUserId: String
    public let amount: DecimalAmount
    /// `PAY_IN` / `PAY_OUT`, or `nil` for every method.
    public let paymentType: String?
    /// One method by id, or `nil` for the list.
    public let methodId: String?
    public let locale: String?
    public let level: String?
    /// Where and how the reply goes.
    public let reply: ReplyAddress

    /// The AMQP properties a reply needs from its query.
    public struct ReplyAddress: Sendable, Equatable {
        /// The query's `reply_to`: a direct reply-to name.
        public let replyTo: String
        /// The query's `correlation_id`, else its `id` (else `nil` when not even that could be read).
        public let correlationId: String?

        public init(replyTo: String, correlationId: String?) {
            self.replyTo = replyTo
            self.correlationId = correlationId
        }

        /// The address a query's properties give, or `nil` when its `reply_to` is absent or not a direct reply-to
        /// name (there is nobody PayBridge may answer).
        public static func of(replyTo: String?, correlationId: String?, queryId: String?) -> ReplyAddress? {
            guard let replyTo, replyTo.hasPrefix(PaymentMethodsQuery.replyToPrefix),
                  replyTo.utf8.count <= 255,
                  replyTo.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F })
            else { return nil }
            return ReplyAddress(replyTo: replyTo, correlationId: correlationId ?? queryId)
        }
    }

    /// Reads a validated query (``CommandDecoder/decodeQuery(_:routingKey:replyTo:correlationId:)`` validates).
    init?(event: CloudEvent, data: JSONValue, reply: ReplyAddress) {
        guard let merchantPaymentId = data["merchantPaymentId"]?.stringValue,
              let merchantUserId = data["merchantUserId"]?.stringValue,
              let amountText = data["amount"]?.stringValue, let amount = DecimalAmount(amountText)
        else { return nil }
        let accountName = data["account"]?.stringValue
        guard let account = accountName.map({ MerchantAccount($0) }) ?? .default else { return nil }
        self.id = event.id
        self.account = account
        self.merchantPaymentId = merchantPaymentId
        self.merchantUserId = merchantUserId
        self.amount = amount
        self.paymentType = data["type"]?.stringValue
        self.methodId = data["methodId"]?.stringValue
        self.locale = data["locale"]?.stringValue
        self.level = data["level"]?.stringValue
        self.reply = reply
    }
}
