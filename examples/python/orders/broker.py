"""What the relay and the query share: the producer's connection and a command as an AMQP message."""
import aio_pika

from .commands import CONTENT_TYPE

COMMANDS_EXCHANGE = "payments.commands"
CONFIRM_TIMEOUT = 30  # seconds for the broker's confirm of one publish


def command_message(command_id, event_type, body, **properties):
    """docs/integration.md, "Publishing commands": persistent, CloudEvents content type, message_id = command id."""
    return aio_pika.Message(body, content_type=CONTENT_TYPE, delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                            message_id=command_id, type=event_type, **properties)


async def producer_channel(url):
    """(connection, channel with publisher confirms, the commands exchange). A returned (`mandatory`) message
    raises PublishError; a nack raises DeliveryError. The producer may not declare anything (not even passively),
    so the exchange is taken as it is."""
    connection = await aio_pika.connect(url)
    channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
    exchange = await channel.get_exchange(COMMANDS_EXCHANGE, ensure=False)
    return connection, channel, exchange
