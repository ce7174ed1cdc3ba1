// The shared words (``PaymentStatus``, ``Provider``, ``ErrorClass``, ``OutcomeError``,
// ``DecimalAmount``, ``JSONValue`` with its one parser and writer, ``JSONLimits``) are part of
// the contract's API: every command and event is made of them.
@_exported import PaymentVocabulary
