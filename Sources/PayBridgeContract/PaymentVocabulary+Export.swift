// The shared words (``PaymentStatus``, ``JSONLimits``) are part of the contract's API: every event carries them.
@_exported import PaymentVocabulary
