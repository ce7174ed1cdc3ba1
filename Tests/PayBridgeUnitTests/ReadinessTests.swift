@testable import PayBridge
import Testing

/// `/readyz`'s state, without I/O: each broker connection is tracked on its own.
@Suite struct ReadinessTests {
    @Test func oneConnectionRecoveringDoesNotHideAnotherThatIsStillDown() {
        let readiness = Readiness()
        readiness.setConnection("publish", connected: false)
        readiness.setConnection("consume", connected: false)
        readiness.setConnection("consume", connected: true)
        #expect(readiness.check().ready == false)
        #expect(readiness.check().reasons == ["broker (publish connection): disconnected"])
        readiness.setConnection("publish", connected: true)
        #expect(readiness.check().ready)
    }
}
