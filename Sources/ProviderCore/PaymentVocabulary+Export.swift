// The shared words (``PaymentStatus``, ``Provider``, ``ErrorClass``, ``OutcomeError``,
// ``DecimalAmount``, ``JSONValue`` with its one parser and writer, ``JSONLimits``) are part of
// ProviderCore's API: every client reports and parses them.
@_exported import PaymentVocabulary
