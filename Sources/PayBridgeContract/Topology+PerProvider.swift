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

            init(_ provider: Provider) {
                commandQueue = "payments.\(provider.rawValue)"
                callback = "\(provider.rawValue).callback"
                unresolved = "\(provider.rawValue).unresolved"
                reconcile = "\(provider.rawValue).reconcile"
            }
        }

        private static let table = Dictionary(uniqueKeysWithValues: Provider.allCases.map { ($0, Names($0)) })

        private static let responseRoutingKeys = Dictionary(uniqueKeysWithValues: PaymentCommandKind.allCases.map {
            ($0, Topology.responseRoutingKey($0.provider, operation: $0.operation))
        })

        /// `provider`'s names (every provider is in the table; one outside it would get them written anew).
        static func names(_ provider: Provider) -> Names { table[provider] ?? Names(provider) }

        /// ``Topology/responseRoutingKey(_:)`` of `kind`.
        static func responseRoutingKey(_ kind: PaymentCommandKind) -> String {
            responseRoutingKeys[kind] ?? Topology.responseRoutingKey(kind.provider, operation: kind.operation)
        }
    }
}
