"""PayBridge commands as CloudEvents (docs/integration.md, "Publishing commands"), and `place`: an order row and
its command written to the outbox in one transaction (the relay publishes it later)."""
import json
import uuid
from dataclasses import dataclass

from . import db

SOURCE = "/orders/python"
CONTENT_TYPE = "application/cloudevents+json"


@dataclass
class Command:
    id: str
    type: str
    routing_key: str
    body: bytes


def cloud_event(event_type, data, event_id=None):
    """(id, body) of a structured-mode CloudEvent."""
    event_id = event_id or str(uuid.uuid4())
    event = {"specversion": "1.0", "id": event_id, "type": event_type, "source": SOURCE, "time": db.now(),
             "datacontenttype": "application/json", "data": data}
    return event_id, json.dumps(event, separators=(",", ":")).encode()


def command(provider, operation, data):
    event_type = f"paybridge.{provider}.{operation}.v1"
    command_id, body = cloud_event(event_type, data)
    return Command(command_id, event_type, f"{provider}.{operation}", body)


def purchase_data(order, amount, account=None):
    data = {"paymentId": order, "amount": amount, "currency": "BDT", "customerEmail": f"{order}@example.com"}
    if account is not None:
        data["account"] = account
    return data


def place_purchase(conn, order, amount):
    db.place(conn, order, "purchase", "amanpay", "default", amount,
             command("amanpay", "purchase", purchase_data(order, amount)))


def place_failing(conn, order, amount):
    """A purchase for a merchant account PayBridge does not have: command.failed / UNKNOWN_ACCOUNT."""
    db.place(conn, order, "failing", "amanpay", "nosuch", amount,
             command("amanpay", "purchase", purchase_data(order, amount, account="nosuch")))


def place_payin(conn, order, amount, method, wallet, user):
    """A FirstPay pay-in built from a payment method PayBridge's query returned (see query.py)."""
    data = {"accountId": method["accountId"], "paymentMethodId": method["id"], "amount": amount,
            "clientFieldsValues": [{"key": field["key"], "value": wallet} for field in method.get("clientFields", [])],
            "merchantPaymentId": order, "merchantUserId": user}
    db.place(conn, order, "payin", "firstpay", "default", amount, command("firstpay", "pay_in", data))
