import PayBridgeContract
import PayBridgeRules
import Testing

/// One payment whose responses never verify is that command's problem; a run across commands pauses the provider.
@Suite struct BadSignatureStreakTests {
    /// Records bad signatures for `commandIds` in order; returns whether each asked for a pause.
    static func record(_ streak: inout BadSignatureStreak, _ commandIds: [String]) -> [Bool] {
        commandIds.map { streak.recordBadSignature(commandId: $0) }
    }

    @Test func oneCommandRetriedManyTimesNeverTripsTheStreak() {
        var streak = BadSignatureStreak(threshold: 3)
        let pauses = Self.record(&streak, Array(repeating: "cmd-1", count: 10))
        #expect(pauses == Array(repeating: false, count: 10))
        #expect(streak.commandIds == ["cmd-1"])
    }

    @Test func thresholdDistinctCommandsInARowTripItAndEveryFurtherOnePausesAgain() {
        var streak = BadSignatureStreak(threshold: 3)
        let pauses = Self.record(&streak, ["a", "b", "a", "c", "a", "d"])
        // A repeat of `a` does not count twice; from `c` on the provider pauses, and again while the run lasts.
        #expect(pauses == [false, false, false, true, true, true])
        #expect(streak.commandIds.count == 3, "bounded by the threshold")
    }

    @Test func aUsableAnswerEndsTheStreak() {
        var streak = BadSignatureStreak(threshold: 2)
        let before = Self.record(&streak, ["a"])
        streak.recordUsableAnswer()
        let after = Self.record(&streak, ["b", "c"])
        #expect(before == [false])
        #expect(after == [false, true], "the run started again at b")
        streak.recordUsableAnswer()
        #expect(!streak.tripped)
    }

    @Test func theThresholdIsAtLeastOne() {
        var streak = BadSignatureStreak(threshold: 0)
        #expect(streak.threshold == 1)
        #expect(Self.record(&streak, ["a"]) == [true])
    }
}
