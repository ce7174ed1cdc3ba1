"""The payment-methods query end to end, asked through the Python client (`run methods [ACCOUNT]`): the default
account, a second configured account, an unknown account, and FirstPay answering 503 (down). Each must come back as
a reply (methods or the error), never as silence."""
import json

SANDBOX_METHOD = "pm_bkash"  # the sandbox's first PAY_IN method in BDT: account 12, client field `phone`


def reply(client, *account):
    code, out, err = client.run("methods", *account)
    lines = out.strip().splitlines()
    try:
        data = json.loads(lines[-1]) if lines else None
    except ValueError:
        data = None
    return code, data, (err or out).strip()[-600:]


def check_queries(client, stack, report):
    lang = client.language
    code, data, text = reply(client)
    methods = {m.get("id"): m for m in (data or {}).get("methods", []) if isinstance(m, dict)}
    bkash = methods.get(SANDBOX_METHOD, {})
    fields = bkash.get("clientFields") or [{}]
    report.check(code == 0 and bkash.get("accountId") == 12 and fields[0].get("key") == "phone"
                 and fields[0].get("pattern") and data.get("account") == "default",
                 f"{lang}: methods (default account): {sorted(methods)}",
                 f"{lang}: `run methods` exited {code} (expected 0 and {SANDBOX_METHOD} with accountId 12 and a "
                 f"`phone` field with a pattern, account default): {data or text}")
    code, data, text = reply(client, stack.SECOND_ACCOUNT)
    report.check(code == 0 and (data or {}).get("account") == stack.SECOND_ACCOUNT and (data or {}).get("methods"),
                 f"{lang}: methods (account {stack.SECOND_ACCOUNT}, its own FirstPay keys): "
                 f"{len((data or {}).get('methods', []))} methods",
                 f"{lang}: `run methods {stack.SECOND_ACCOUNT}` exited {code} (expected 0 and methods): {data or text}")
    code, data, text = reply(client, "nosuch")
    error = (data or {}).get("error") or {}
    report.check(code == 4 and error.get("code") == "UNKNOWN_ACCOUNT" and error.get("class") == "invalid_command",
                 f"{lang}: methods (unknown account): error UNKNOWN_ACCOUNT, invalid_command",
                 f"{lang}: `run methods nosuch` exited {code} (expected 4, UNKNOWN_ACCOUNT): {data or text}")
    status, body = stack.add_fault({"provider": "firstpay", "operation": "payment_methods", "httpStatus": 503,
                                    "times": 1000})
    if not report.check(status == 200, "sandbox: FirstPay's payment methods answer 503 from now on",
                        f"sandbox refused the fault: {status} {body[:300]}"):
        return
    try:
        code, data, text = reply(client)
    finally:
        stack.clear_faults()
    error = (data or {}).get("error") or {}
    report.check(code == 4 and error.get("class") == "transient" and error.get("code") == "HTTP_503",
                 f"{lang}: methods (FirstPay down): error {error.get('code')}, {error.get('class')}",
                 f"{lang}: `run methods` with FirstPay down exited {code} (expected 4, HTTP_503, transient): "
                 f"{data or text}")
