// Fuzz target: the payment-methods query, both ways. The input is read as a query body (what a producer sends on
// `firstpay.payment_methods`) and, parsed as JSON, as FirstPay's answer (its method object is undocumented, so any
// shape may come back).
// Properties: decoding a query returns a query or a rejection, never a crash, and a rejection with a reply address
// keeps it; any JSON answer gives a reply that validates against the reply schema and lists at most the bounded
// number of methods.
import Foundation
import PayBridgeContract
import StrictJSON

let decoder = CommandDecoder()
let replyValidator = ContractSchemas.validator(forType: PaymentMethodsReply.type)!
let replyTo = "amq.rabbitmq.reply-to.fuzz"
let query = try! decoder.decodeQuery(
    Array(#"{"specversion":"1.0","id":"q","type":"paybridge.firstpay.payment_methods.v1","source":"/f","time":"2026-11-21T06:00:00Z","data":{"merchantPaymentId":"o","merchantUserId":"u","amount":"1"}}"#.utf8),
    routingKey: PaymentMethodsQuery.routingKey, replyTo: replyTo, correlationId: "c").get()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPaymentMethods(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = fuzzBytes(data, size)
    switch decoder.decodeQuery(bytes, routingKey: PaymentMethodsQuery.routingKey, replyTo: replyTo, correlationId: nil) {
    case .failure(let rejected):
        fuzzCheck(!rejected.rejection.code.isEmpty, "rejection without a code")
        fuzzCheck(rejected.reply?.replyTo == replyTo, "a rejection lost its reply address")
    case .success(let decoded):
        fuzzCheck(decoded.reply.correlationId == decoded.id, "the reply does not correlate by the query id")
    }
    guard let answer = try? JSONValue.parse(bytes) else { return 0 }
    let reply = PaymentMethodsReply.methods(answer, for: query, pii: .masked, at: Date(timeIntervalSince1970: 0))
    fuzzCheck(replyValidator.validate(reply.event.jsonValue).isEmpty, "a reply breaks its schema")
    fuzzCheck((reply.methodCount ?? 0) <= PaymentMethodsReply.maximumMethods, "more methods than the bound")
    return 0
}
