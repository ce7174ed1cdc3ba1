@testable import PayBridge
import Testing

/// The callback de-duplication record forgets the oldest payments first, without I/O.
@Suite struct CallbackStateRecordTests {
    @Test func theOldestKeyIsForgottenFirstAndAnUpdateKeepsItsPlace() {
        let record = CallbackStateRecord(capacity: 2)
        record.record("a", paymentId: "1", status: "PENDING")
        record.record("b", paymentId: "2", status: "PENDING")
        record.record("a", paymentId: "1", status: "SUCCESS")  // an update: still the oldest
        #expect(record.recorded("a")?.status == "SUCCESS")
        record.record("c", paymentId: "3", status: "PENDING")
        #expect(record.recorded("a") == nil)
        #expect(record.recorded("b")?.paymentId == "2")
        record.record("d", paymentId: "4", status: "PENDING")
        #expect(record.recorded("b") == nil)
        #expect(record.recorded("c")?.status == "PENDING" && record.recorded("d")?.status == "PENDING")
    }
}
