import Testing

@Test func placeholderPayBridgeTests() { #expect(Bool(true)) }
