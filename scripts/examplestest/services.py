"""The provider sandbox and `paybridge run` as child processes (logs in files), their health checks, and the
sandbox's control API (GET /_sandbox/payments, POST /_sandbox/firstpay/<id>/flip)."""
import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request

MAX_HTTP_BODY = 4 << 20


def http(method, url, timeout=5):
    """(status, body text); status 0 when nothing answered."""
    request = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)
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

    def __init__(self, bin_dir, keys_dir, amqp_url, logs_dir):
        self.bin_dir, self.keys_dir, self.amqp_url, self.logs_dir = bin_dir, keys_dir, amqp_url, logs_dir
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

    def start_sandbox(self):
        callbacks = f"http://127.0.0.1:{self.http_port}/callbacks"
        env = dict(os.environ, PAYBRIDGE_SANDBOX_PORT=str(self.sandbox_port), PAYBRIDGE_SANDBOX_KEYS_DIR=self.keys_dir,
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
                   FIRSTPAY_MERCHANT_PRIVATE_KEY_FILE=os.path.join(self.keys_dir, "merchant_private.pem"))
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
