"""JSON from the broker, bounded before it is parsed (everything from outside is hostile until proven otherwise)."""
import json

MAX_BYTES = 1 << 20  # a PayBridge event or reply is a few KiB


def loads(body, what="the body"):
    """The parsed JSON of `body`, or ValueError saying why not: too large (checked before parsing), or not JSON
    (including nesting deep enough to exhaust Python's recursion limit)."""
    if len(body) > MAX_BYTES:
        raise ValueError(f"{what} is {len(body)} bytes, more than {MAX_BYTES}")
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as error:
        raise ValueError(f"{what} is not JSON: {error}") from None
