"""The provider sandbox and `paybridge run` as child processes (logs in files), their health checks, and the
sandbox's control API (GET /_sandbox/payments, POST /_sandbox/firstpay/<id>/flip, faults). PayBridge gets a second
FirstPay merchant account, `bd`, whose keys the sandbox knows too."""
import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request

MAX_HTTP_BODY = 4 << 20


def http(method, url, timeout=5, body=None):
    """(status, body text); status 0 when nothing answered. `body`: a JSON value to POST."""
    data = json.dumps(body).encode() if body is not None else (b"" if method == "POST" else None)
    request = urllib.request.Request(url, method=method, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read(MAX_HTTP_BODY).decode(errors="replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read(MAX_HTTP_BODY).decode(errors="replace")
    except (urllib.error.URLError, OSError):
        return 0, ""


class Service:
    def __init__(self, name, argv, env, log_path):
        self.name, self.log_path = name, log_path
        self.log = open(log_path, "wb")
        self.process = subprocess.Popen(argv, env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL)

    def wait_healthy(self, url, deadline_s):
        """True once `url` answers 200; False when the deadline passes or the process exits first."""
        deadline = time.monotonic() + deadline_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            if http("GET", url, timeout=2)[0] == 200:
                return True
            time.sleep(0.1)
        return False

    def stop(self, deadline_s=20):
        """SIGTERM, then wait (SIGKILL after the deadline). Returns the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(deadline_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
        return self.process.returncode


class Stack:
    """The sandbox and PayBridge, configured for each other, on the ports of EXAMPLES_SANDBOX_PORT,
    EXAMPLES_HTTP_PORT and EXAMPLES_ADMIN_PORT."""

    # The second FirstPay merchant account PayBridge is given (its keys are made per run, test keys only).
    SECOND_ACCOUNT = "bd"

    def __init__(self, bin_dir, keys_dir, amqp_url, logs_dir):
        self.bin_dir, self.keys_dir, self.amqp_url, self.logs_dir = bin_dir, keys_dir, amqp_url, logs_dir
        self.second_keys = os.path.join(logs_dir, "firstpay-bd-keys")
        self.sandbox_port = int(os.environ.get("EXAMPLES_SANDBOX_PORT", "18190"))
        self.http_port = int(os.environ.get("EXAMPLES_HTTP_PORT", "18180"))
        self.admin_port = int(os.environ.get("EXAMPLES_ADMIN_PORT", "19190"))
        self.sandbox_url = f"http://127.0.0.1:{self.sandbox_port}"
        self.services = []

    def paybridge_env(self):
        env = dict(os.environ, PAYBRIDGE_AMQP_URL=self.amqp_url)
        env.pop("PAYBRIDGE_AMQP_URL_FILE", None)
        return env

    def topology(self):
        return subprocess.run([os.path.join(self.bin_dir, "paybridge"), "topology"], env=self.paybridge_env(),
                              capture_output=True, text=True, timeout=120)

    def make_second_keys(self):
        """FirstPay's and the merchant's RSA key pairs for the second account, as the sandbox reads a keys folder."""
        os.makedirs(self.second_keys, exist_ok=True)
        for party in ("firstpay", "merchant"):
            private = os.path.join(self.second_keys, f"{party}_private.pem")
            subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
                            "-out", private], check=True, capture_output=True, timeout=60)
            subprocess.run(["openssl", "pkey", "-in", private, "-pubout", "-out",
                            os.path.join(self.second_keys, f"{party}_public.pem")],
                           check=True, capture_output=True, timeout=60)

    def start_sandbox(self):
        self.make_second_keys()
        callbacks = f"http://127.0.0.1:{self.http_port}/callbacks"
        env = dict(os.environ, PAYBRIDGE_SANDBOX_PORT=str(self.sandbox_port), PAYBRIDGE_SANDBOX_KEYS_DIR=self.keys_dir,
                   PAYBRIDGE_SANDBOX_FIRSTPAY_MERCHANT_KEYS_DIRS=self.second_keys,
                   PAYBRIDGE_SANDBOX_AMANPAY_CALLBACK_URL=f"{callbacks}/amanpay",
                   PAYBRIDGE_SANDBOX_FIRSTPAY_POSTBACK_URL=f"{callbacks}/firstpay",
                   PAYBRIDGE_SANDBOX_AUTO_COMPLETE="SUCCESS", PAYBRIDGE_SANDBOX_AUTO_COMPLETE_DELAY_MS="500")
        service = Service("sandbox", [os.path.join(self.bin_dir, "paybridge-sandbox")], env,
                          os.path.join(self.logs_dir, "sandbox.log"))
        self.services.append(service)
        return service.wait_healthy(f"{self.sandbox_url}/_sandbox/health", 30)

    def start_paybridge(self):
        env = dict(self.paybridge_env(), PAYBRIDGE_HTTP_PORT=str(self.http_port),
                   PAYBRIDGE_ADMIN_PORT=str(self.admin_port), AMANPAY_BASE_URL=self.sandbox_url,
                   AMANPAY_MERCHANT_ID="1758378", AMANPAY_SECRET_KEY="s3cr3t", FIRSTPAY_BASE_URL=self.sandbox_url,
                   FIRSTPAY_PUBLIC_KEY_FILE=os.path.join(self.keys_dir, "firstpay_public.pem"),
                   FIRSTPAY_MERCHANT_PRIVATE_KEY_FILE=os.path.join(self.keys_dir, "merchant_private.pem"),
                   FIRSTPAY_ACCOUNTS=self.SECOND_ACCOUNT,
                   FIRSTPAY_BD_PUBLIC_KEY_FILE=os.path.join(self.second_keys, "firstpay_public.pem"),
                   FIRSTPAY_BD_MERCHANT_PRIVATE_KEY_FILE=os.path.join(self.second_keys, "merchant_private.pem"))
        service = Service("paybridge", [os.path.join(self.bin_dir, "paybridge"), "run"], env,
                          os.path.join(self.logs_dir, "paybridge.log"))
        self.services.append(service)
        return service.wait_healthy(f"http://127.0.0.1:{self.admin_port}/readyz", 90)

    def stop(self):
        """Stops every service (PayBridge first); returns [(name, exit status)]."""
        stopped = [(s.name, s.stop()) for s in reversed(self.services)]
        self.services = []
        return stopped

    def log_paths(self):
        return [os.path.join(self.logs_dir, name) for name in ("sandbox.log", "paybridge.log")]

    # The sandbox's control API

    def sandbox_payment(self, provider, order):
        """The sandbox's payment for an order (Amanpay `paymentID`, FirstPay `merchantPaymentId`), or None."""
        status, body = http("GET", f"{self.sandbox_url}/_sandbox/payments")
        if status != 200:
            return None
        key = "paymentID" if provider == "amanpay" else "merchantPaymentId"
        try:
            payments = json.loads(body)
        except ValueError:
            return None
        return next((p for p in payments if isinstance(p, dict) and p.get("provider") == provider
                     and p.get(key) == order), None)

    def flip(self, order):
        return http("POST", f"{self.sandbox_url}/_sandbox/firstpay/{order}/flip")

    def add_fault(self, fault):
        return http("POST", f"{self.sandbox_url}/_sandbox/faults", body=fault)

    def clear_faults(self):
        return http("DELETE", f"{self.sandbox_url}/_sandbox/faults")
