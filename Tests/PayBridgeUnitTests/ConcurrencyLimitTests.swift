@testable import PayBridge
import Synchronization
import Testing

@Suite struct ConcurrencyLimitTests {
    final class Gauge: Sendable {
        let state = Mutex<(now: Int, max: Int)>((0, 0))
        func enter() { state.withLock { $0.now += 1; $0.max = Swift.max($0.max, $0.now) } }
        func leave() { state.withLock { $0.now -= 1 } }
    }

    @Test func neverMoreHoldersThanTheLimit() async {
        let limit = ConcurrencyLimit(3)
        let gauge = Gauge()
        await withDiscardingTaskGroup { group in
            for _ in 0..<50 {
                await limit.acquire()
                group.addTask {
                    gauge.enter()
                    await Task.yield()
                    gauge.leave()
                    await limit.release()
                }
            }
        }
        #expect(gauge.state.withLock { $0.max } <= 3)
        #expect(gauge.state.withLock { $0.now } == 0)
    }
}
