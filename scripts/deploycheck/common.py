"""What every check shares: the report that counts passes and failures, and the names this package starts from."""
COMMANDS_EXCHANGE = "payments.commands"
# Environment variable prefixes PayBridge reads (the sandbox also reads LOG_LEVEL).
ENV_PREFIXES = ("PAYBRIDGE_", "AMANPAY_", "FIRSTPAY_")
# Variables any container may carry without the program reading them.
ENV_HARMLESS = {"TZ", "LANG", "LC_ALL"}
# OpenTelemetry's standard variables: PayBridge reads the ones that switch span export on (TraceExport.swift);
# swift-otel reads the rest itself (paybridge built with the OTLPExporter trait, as the Dockerfile does).
ENV_OTEL_PREFIX = "OTEL_"
# Policy keys RabbitMQ 3.10 ... 4.x accept on queues, with a check of the value. `delivery-limit` must be >= 0:
# 4.x takes -1 for "no limit", but 3.x refuses the whole definitions file for it.
POLICY_KEYS = {
    "delivery-limit": lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0,
    "dead-letter-strategy": lambda v: v in ("at-most-once", "at-least-once"),
    "overflow": lambda v: v in ("drop-head", "reject-publish", "reject-publish-dlx"),
    "dead-letter-exchange": lambda v: isinstance(v, str),
    "dead-letter-routing-key": lambda v: isinstance(v, str),
    "message-ttl": lambda v: isinstance(v, int) and v >= 0,
    "max-length": lambda v: isinstance(v, int) and v >= 0,
    "max-length-bytes": lambda v: isinstance(v, int) and v >= 0,
    "expires": lambda v: isinstance(v, int) and v >= 1,
    "alternate-exchange": lambda v: isinstance(v, str),
}
# Policy key -> the queue argument the code may declare for the same thing.
POLICY_ARGUMENT = {"delivery-limit": "x-delivery-limit", "dead-letter-strategy": "x-dead-letter-strategy",
                   "overflow": "x-overflow", "dead-letter-exchange": "x-dead-letter-exchange",
                   "dead-letter-routing-key": "x-dead-letter-routing-key", "message-ttl": "x-message-ttl",
                   "max-length": "x-max-length", "max-length-bytes": "x-max-length-bytes", "expires": "x-expires"}



class Report:
    def __init__(self):
        self.passed = self.failed = self.skipped = 0

    def section(self, title):
        print(f"\n== {title}")

    def ok(self, message):
        self.passed += 1
        print(f"  ok    {message}")

    def fail(self, message):
        self.failed += 1
        print(f"  FAIL  {message}")

    def check(self, condition, ok_message, fail_message):
        (self.ok if condition else self.fail)(ok_message if condition else fail_message)
        return condition

    def note(self, message):
        print(f"  note  {message}")

    def warn(self, message):
        self.skipped += 1
        print("  " + "!" * 100)
        print(f"  WARN  {message}")
        print("  " + "!" * 100)

