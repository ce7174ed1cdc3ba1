import Testing

@testable import PayBridgeContract

/// `PAYBRIDGE_RECONCILE_SCHEDULE` (reconciliation): its text form, its bounds, and the delay queues'
/// names.
@Suite struct ReconcileScheduleTests {
    @Test func theDefaultIsOneMinuteToADay() throws {
        #expect(ReconcileSchedule.default.delaysMilliseconds == [60_000, 300_000, 900_000, 3_600_000, 21_600_000,
                                                                 86_400_000])
        #expect(ReconcileSchedule.default.description == "1m,5m,15m,1h,6h,1d")
        #expect(try ReconcileSchedule(parsing: "1m,5m,15m,1h,6h,24h") == .default)
    }

    @Test(arguments: [
        ("500ms", [500]), ("2s,1m", [2000, 60_000]), (" 30 , 90s ", [30_000, 90_000]), ("1h,1d", [3_600_000, 86_400_000]),
        ("1S,2M", [1000, 120_000]), ("30d", [2_592_000_000]),
    ])
    func durationsParse(_ text: String, _ milliseconds: [Int]) throws {
        #expect(try ReconcileSchedule(parsing: text).delaysMilliseconds == milliseconds)
    }

    @Test(arguments: ["off", "OFF", "none", " off "])
    func offDisables(_ text: String) throws {
        let schedule = try ReconcileSchedule(parsing: text)
        #expect(schedule.isOff && schedule.delayMilliseconds(beforeStep: 1) == nil && schedule.description == "off")
    }

    @Test(arguments: [
        "", "1m,", ",1m", "1x", "-5s", "0s", "1.5m", "31d", "99999999999999999999s", "5 m", "1m;5m", "m",
        String(repeating: "1s,", count: 32) + "1s", String(repeating: "9", count: 2000),
    ])
    func anythingElseIsRefusedWithAReason(_ text: String) {
        #expect(throws: ReconcileScheduleError.self) { try ReconcileSchedule(parsing: text) }
    }

    @Test func aStepPastTheEndUsesTheLastDelay() throws {
        let schedule = try ReconcileSchedule(parsing: "1s,2s")
        #expect(schedule.delayMilliseconds(beforeStep: 1) == 1000)
        #expect(schedule.delayMilliseconds(beforeStep: 2) == 2000)
        #expect(schedule.delayMilliseconds(beforeStep: 9) == 2000)
    }

    @Test func eachDistinctDelayIsOneQueuePerProvider() throws {
        let schedule = try ReconcileSchedule(parsing: "1m,1m,90s,1500ms")
        #expect(schedule.distinctDelaysMilliseconds == [60_000, 90_000, 1500])
        #expect(schedule.distinctDelaysMilliseconds.map { Topology.reconcileQueue(.firstpay, delayMilliseconds: $0) }
            == ["payments.reconcile.firstpay.1m", "payments.reconcile.firstpay.90s",
                "payments.reconcile.firstpay.1500ms"])
    }

    @Test func durationsConvert() throws {
        #expect(try ReconcileSchedule(delays: [.seconds(1), .milliseconds(250)]).delaysMilliseconds == [1000, 250])
        #expect(throws: ReconcileScheduleError.self) { try ReconcileSchedule(delays: [.seconds(86_400 * 365)]) }
    }
}
