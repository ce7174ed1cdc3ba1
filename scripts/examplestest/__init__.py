"""`make examples-test`: every reference client in examples/ against a real broker, PayBridge and the sandbox."""
