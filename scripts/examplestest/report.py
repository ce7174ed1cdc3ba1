"""PASS/FAIL lines with what was expected and what was seen, and the closing count."""


class Report:
    def __init__(self, name="examples-test"):
        self.name = name
        self.passed = 0
        self.failed = 0

    def section(self, title):
        print(f"\n== {title}", flush=True)

    def info(self, text):
        print(f"   {text}", flush=True)

    def ok(self, what):
        self.passed += 1
        print(f"PASS {what}", flush=True)
        return True

    def fail(self, what):
        self.failed += 1
        print(f"FAIL {what}", flush=True)
        return False

    def error(self, what):
        self.failed += 1
        print(f"ERROR {what}", flush=True)
        return False

    def check(self, condition, passed, failed):
        return self.ok(passed) if condition else self.fail(failed)

    def close(self):
        print(f"\n{self.name}: {self.passed} passed, {self.failed} failed", flush=True)
        return 1 if self.failed else 0


def tail(path, lines=40, prefix="    | "):
    """The last lines of a log file, indented, for a failure report."""
    try:
        with open(path, "rb") as f:
            text = f.read()[-64 * 1024:].decode(errors="replace")
    except OSError as error:
        return f"{prefix}(cannot read {path}: {error})"
    return "\n".join(prefix + line for line in text.splitlines()[-lines:])
