"""The compose broker's URLs: 127.0.0.1:RABBITMQ_PORT with its local users (compose-rabbitmq-access.json: password =
name). The AMQP helpers themselves are scripts/checkkit/amqp.py, shared with scripts/imagecheck."""


def url(port, user):
    return f"amqp://{user}:{user}@127.0.0.1:{port}/%2F"
