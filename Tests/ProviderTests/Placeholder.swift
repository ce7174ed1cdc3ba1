import Testing

@Test func placeholderProviderTests() { #expect(Bool(true)) }
