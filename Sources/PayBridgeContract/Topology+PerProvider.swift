import PaymentVocabulary

extension Topology {
    /// The names ``Topology`` derives from a provider or a command kind, each written once at start-up: every
    /// command publishes under several of them, and building them per command cost an allocation each.
    enum PerProvider {
        struct Names {
            let commandQueue: String
            let callback: String
            let unresolved: String
            let reconcile: String
        }

        static let names: [Provider: Names] = Dictionary(uniqueKeysWithValues: Provider.allCases.map { provider in
            (provider, Names(commandQueue: "payments.\(provider.rawValue)", callback: "\(provider.rawValue).callback",
                             unresolved: "\(provider.rawValue).unresolved", reconcile: "\(provider.rawValue).reconcile"))
        })

        static let responseRoutingKeys: [PaymentCommandKind: String] = Dictionary(
            uniqueKeysWithValues: PaymentCommandKind.allCases.map { kind in
                (kind, Topology.responseRoutingKey(kind.provider, operation: kind.operation))
            })
    }
}
