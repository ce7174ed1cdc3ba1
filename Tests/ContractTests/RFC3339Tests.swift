import Foundation
@testable import PayBridgeContract
import Testing

/// Event times are written by hand (no calendar, no Foundation formatter per event): the text must be exactly
/// Foundation's ISO 8601 text (UTC, milliseconds truncated) for any date, including those Foundation writes itself.
@Suite struct RFC3339Tests {
    static func check(_ date: Date) {
        #expect(RFC3339.string(from: date) == RFC3339.foundationString(from: date),
                "\(date.timeIntervalSinceReferenceDate)")
    }

    @Test func knownInstantsAreWrittenAsFoundationWritesThem() {
        #expect(RFC3339.string(from: Date(timeIntervalSince1970: 1_764_979_200.25)) == "2025-12-06T00:00:00.250Z")
        #expect(RFC3339.string(from: Date(timeIntervalSince1970: -0.5)) == "1969-12-31T23:59:59.500Z")
        #expect(RFC3339.string(from: Date(timeIntervalSince1970: 951_782_400)) == "2000-02-29T00:00:00.000Z")
        let edges: [Double] = [
            0, 0.0005, 0.0009999, 0.9999, 1.0005, 1_764_979_200.9995, 1_764_979_200.99999, -0.5, -1.0005, 1e-7,
            0.0015, 4_102_444_800, 253_402_300_799.999, 253_402_300_800, -2_208_988_800, -2_208_988_800.001,
            -62_135_596_800, .infinity, -.infinity, .nan,
        ]
        for seconds in edges { Self.check(Date(timeIntervalSince1970: seconds)) }
        // Both ends of the range written by hand, and just outside it.
        for reference in [-3_187_296_000, 252_423_993_600] as [Double] {
            for delta in [-0.0015, -0.001, 0, 0.001, 1] { Self.check(Date(timeIntervalSinceReferenceDate: reference + delta)) }
        }
    }

    @Test func randomInstantsAreWrittenAsFoundationWritesThem() {
        var generator = SystemRandomNumberGenerator()
        for index in 0..<20_000 {
            let seconds: Double
            switch index % 3 {
            case 0: seconds = Double.random(in: -2.3e9..<2.6e11, using: &generator)
            case 1: seconds = Double(Int.random(in: 0..<4_000_000_000_000, using: &generator)) / 1000
            default:
                seconds = Double(Int.random(in: 1_700_000_000_000..<1_900_000_000_000, using: &generator)) / 1000
                    + Double.random(in: -0.0005...0.0005, using: &generator)
            }
            Self.check(Date(timeIntervalSince1970: seconds))
        }
    }
}
