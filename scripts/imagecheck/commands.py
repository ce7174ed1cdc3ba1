"""Commands of the eight kinds (docs/integration.md, "At a glance"), with the data scripts/demo.sh sends."""
import time


def command(kind, command_id, data):
    """(routing key, CloudEvent) for `kind` = `<provider>.<operation>`."""
    return kind, {"specversion": "1.0", "id": command_id, "type": f"paybridge.{kind}.v1", "source": "/image-check",
                  "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "datacontenttype": "application/json",
                  "data": data}


def amanpay_purchase(command_id, payment_id, **extra):
    return command("amanpay.purchase", command_id, {
        "paymentId": payment_id, "amount": "250.50", "currency": "BDT", "customerEmail": "amina@example.com",
        "paymentMethod": "bkash", "bkashNumber": "01712345678", **extra})


def amanpay_payout(command_id, payment_id):
    return command("amanpay.payout", command_id, {
        "paymentId": payment_id, "amount": "1000.00", "currency": "BDT", "customerEmail": "rafi@example.com",
        "customerName": "Rafi Ahmed", "paymentMethod": "nagad", "recipientType": "bank_account",
        "recipientMobileNumber": "01812345678"})


def amanpay_status(command_id, payment_id):
    return command("amanpay.status", command_id, {"paymentId": payment_id, "paymentType": "purchase"})


def amanpay_specify(command_id, payment_id, transaction_id, operation_id):
    return command("amanpay.specify", command_id, {
        "transactionId": transaction_id, "operationId": operation_id, "additionalFields": {"Otp": "123456"},
        "paymentId": payment_id})


def firstpay_pay_in(command_id, merchant_payment_id):
    return command("firstpay.pay_in", command_id, {
        "accountId": 12, "paymentMethodId": "bkash-p2c", "amount": "500.00",
        "clientFieldsValues": [{"key": "phone", "value": "01712345678"}], "merchantPaymentId": merchant_payment_id})


def firstpay_pay_out(command_id, merchant_payment_id):
    return command("firstpay.pay_out", command_id, {
        "accountId": 12, "paymentMethodId": "nagad-out", "amount": "75.25",
        "clientFieldsValues": [{"key": "phone", "value": "01812345678"}], "merchantPaymentId": merchant_payment_id})


def firstpay_status(command_id, merchant_payment_id):
    return command("firstpay.status", command_id, {"merchantPaymentId": merchant_payment_id})


def firstpay_sms(command_id, provider_payment_id):
    return command("firstpay.sms", command_id, {"paymentId": provider_payment_id, "code": "1234"})
