// The shared words (``PaymentStatus``, ``JSONLimits``) are part of ProviderCore's API: every client reports them.
@_exported import PaymentVocabulary
