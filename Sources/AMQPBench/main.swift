print("amqp-bench: not yet")
