"""The payment-methods query: asks PayBridge which FirstPay methods a pay-in can use (request/reply over RabbitMQ's
direct reply-to), so the order service holds no FirstPay keys. The reply-to consumer (auto-ack) is started on the
channel before the request is published; the reply is matched by correlation_id."""
import asyncio
import re

from . import bounded
from .broker import CONFIRM_TIMEOUT, command_message, producer_channel
from .commands import cloud_event

REPLY_TO = "amq.rabbitmq.reply-to"
REPLY_TIMEOUT = 15  # seconds
REQUEST_TTL = 30  # seconds: PayBridge drops a request nobody could answer in time


class QueryError(Exception):
    pass


async def payment_methods(producer_url, order, user, amount, account=None, errors_raise=True):
    """The reply's `data`: {"queryId", "provider", "account", "methods": [...]}. An error reply ("error" instead of
    "methods") raises QueryError, or with errors_raise=False is returned as it came."""
    data = {"merchantPaymentId": order, "merchantUserId": user, "amount": amount, "type": "PAY_IN"}
    if account is not None:
        data["account"] = account
    query_id, body = cloud_event("paybridge.firstpay.payment_methods.v1", data)
    connection, channel, exchange = await producer_channel(producer_url)
    async with connection:
        reply = asyncio.get_running_loop().create_future()

        async def on_reply(message):
            if message.correlation_id == query_id and not reply.done():
                reply.set_result(message.body)

        replies = await channel.get_queue(REPLY_TO, ensure=False)
        await replies.consume(on_reply, no_ack=True)
        request = command_message(query_id, "paybridge.firstpay.payment_methods.v1", body, correlation_id=query_id,
                                  reply_to=REPLY_TO, expiration=REQUEST_TTL)
        await exchange.publish(request, "firstpay.payment_methods", mandatory=True, timeout=CONFIRM_TIMEOUT)
        try:
            raw = await asyncio.wait_for(reply, REPLY_TIMEOUT)
        except asyncio.TimeoutError:
            raise QueryError(f"no reply to the payment-methods query {query_id} within {REPLY_TIMEOUT} s "
                             "(is PayBridge running, and does it answer firstpay.payment_methods?)") from None
    return parse_reply(raw, query_id, errors_raise)


def parse_reply(raw, query_id, errors_raise=True):
    try:
        event = bounded.loads(raw, "the reply")
    except ValueError as error:
        raise QueryError(str(error)) from None
    data = event.get("data") if isinstance(event, dict) else None
    if not isinstance(data, dict) or data.get("queryId") != query_id:
        raise QueryError(f"the reply is not a payment-methods reply for {query_id}: {raw[:300]!r}")
    if isinstance(data.get("error"), dict) and not errors_raise:
        return data
    if isinstance(data.get("error"), dict):
        error = data["error"]
        raise QueryError(f"PayBridge answered {error.get('code')} ({error.get('class')}): {error.get('message')}")
    if not isinstance(data.get("methods"), list):
        raise QueryError(f"the reply has neither methods nor error: {raw[:300]!r}")
    return data


def first_bdt_pay_in(methods, wallet):
    """The first PAY_IN method in BDT; the wallet must fit each client field's pattern (when one is given)."""
    method = next((m for m in methods if isinstance(m, dict) and m.get("type") == "PAY_IN"
                   and m.get("currency") == "BDT"), None)
    if method is None:
        raise QueryError(f"no PAY_IN method in BDT among {len(methods)} methods")
    if not isinstance(method.get("accountId"), int) or not isinstance(method.get("id"), str):
        raise QueryError(f"method {method.get('id')!r} has no accountId: a pay-in needs one")
    fields = method.get("clientFields") or []
    for field in fields:
        if not isinstance(field, dict) or not isinstance(field.get("key"), str):
            raise QueryError(f"method {method['id']} has a client field without a key: {field!r}")
        pattern = field.get("pattern")
        if isinstance(pattern, str) and not re.fullmatch(pattern, wallet):
            raise QueryError(f"the wallet {wallet!r} does not fit {field['key']}'s pattern {pattern}")
    return method
