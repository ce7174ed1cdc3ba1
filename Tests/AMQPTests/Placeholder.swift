import Testing

@Test func placeholderAMQP() { #expect(Bool(true)) }
