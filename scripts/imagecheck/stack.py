"""The containers, configured as compose.yaml configures its services, except that PayBridge's secrets come from
files (the `*_FILE` settings of deploy/paybridge.env.example, mounted at /run/secrets and readable by the image's
user only) and the broker port and the sandbox's control API are published on 127.0.0.1 for the check itself."""
import os
import shutil
import tempfile

from .podman import Pod

IMAGE_UID = 10001
SANDBOX_PORT = 8089  # inside the network, as in compose.yaml
# A FirstPay or Amanpay payment succeeds this long after its create answer, then the sandbox sends its callback.
AUTO_COMPLETE_DELAY_MS = 1000


class Stack:
    names = ("rabbitmq", "sandbox", "callbacks", "worker", "worker-2")

    def __init__(self, root, prefix, paybridge_image, rabbitmq_image, amqp_port, sandbox_port):
        self.root, self.deploy = root, os.path.join(root, "deploy")
        self.pod = Pod(prefix)
        self.paybridge_image, self.rabbitmq_image = paybridge_image, rabbitmq_image
        self.amqp_port, self.sandbox_port = amqp_port, sandbox_port
        self.secrets = None

    def url(self, user):
        """The broker as the check reaches it (compose-rabbitmq-access.json: local passwords = user names)."""
        return f"amqp://{user}:{user}@127.0.0.1:{self.amqp_port}/%2F"

    @property
    def sandbox(self):
        return f"http://127.0.0.1:{self.sandbox_port}"

    def clean(self):
        self.pod.clean(self.names)

    def write_secrets(self):
        """A 0500 directory owned by the image's user, one 0400 file per secret (what a Kubernetes Secret volume
        with fsGroup or `docker compose` secrets give). The broker password is only there, never in the environment."""
        self.secrets = tempfile.mkdtemp(prefix="paybridge-image-check-secrets-")
        keys = os.path.join(self.deploy, "sandbox-test-keys")
        files = {"amqp_url": "amqp://paybridge:paybridge@rabbitmq:5672/%2F\n",
                 "amanpay_secret_key": "s3cr3t\n"}  # the sandbox's test key
        for name, text in files.items():
            with open(os.path.join(self.secrets, name), "w") as f:
                f.write(text)
        shutil.copy(os.path.join(keys, "firstpay_public.pem"), os.path.join(self.secrets, "firstpay_public.pem"))
        shutil.copy(os.path.join(keys, "merchant_private.pem"),
                    os.path.join(self.secrets, "firstpay_merchant_private.pem"))
        for name in os.listdir(self.secrets):
            path = os.path.join(self.secrets, name)
            os.chown(path, IMAGE_UID, IMAGE_UID)
            os.chmod(path, 0o400)
        os.chown(self.secrets, IMAGE_UID, IMAGE_UID)
        os.chmod(self.secrets, 0o500)

    def paybridge_env(self):
        """PayBridge's settings: compose.yaml's, secrets as files, reconciliation off (its status checks would add
        events to the commands under test; `make test` covers it), prefetch 10 so that a load takes a while."""
        return {
            "PAYBRIDGE_AMQP_URL_FILE": "/run/secrets/amqp_url",
            "PAYBRIDGE_LOG_LEVEL": "info",
            "PAYBRIDGE_PREFETCH": "10",
            "PAYBRIDGE_SHUTDOWN_TIMEOUT_SECONDS": "25",
            "PAYBRIDGE_RECONCILE_SCHEDULE": "off",
            "AMANPAY_BASE_URL": f"http://sandbox:{SANDBOX_PORT}",
            "AMANPAY_MERCHANT_ID": "1758378",
            "AMANPAY_SECRET_KEY_FILE": "/run/secrets/amanpay_secret_key",
            "FIRSTPAY_BASE_URL": f"http://sandbox:{SANDBOX_PORT}",
            "FIRSTPAY_PUBLIC_KEY_FILE": "/run/secrets/firstpay_public.pem",
            "FIRSTPAY_MERCHANT_PRIVATE_KEY_FILE": "/run/secrets/firstpay_merchant_private.pem",
        }

    def start_network(self):
        self.pod.create_network()

    def start_broker(self):
        """As compose.yaml: the configuration in conf.d, the access file, the topology and the policies imported
        at boot, in that order."""
        mounts = {"compose-rabbitmq.conf": "/etc/rabbitmq/conf.d/20-paybridge.conf",
                  "compose-rabbitmq-access.json": "/etc/rabbitmq/definitions.d/10-access.json",
                  "rabbitmq-definitions.json": "/etc/rabbitmq/definitions.d/20-topology.json",
                  "rabbitmq-policies.json": "/etc/rabbitmq/definitions.d/30-policies.json"}
        options = ["--hostname", "rabbitmq", "--publish", f"127.0.0.1:{self.amqp_port}:5672"]
        for source, target in mounts.items():
            options += ["--volume", f"{os.path.join(self.deploy, source)}:{target}:ro"]
        self.pod.run("rabbitmq", self.rabbitmq_image, options=options)

    def start_sandbox(self):
        env = {"PAYBRIDGE_SANDBOX_HOST": "0.0.0.0", "PAYBRIDGE_SANDBOX_PORT": str(SANDBOX_PORT),
               "PAYBRIDGE_SANDBOX_KEYS_DIR": "/keys",
               "PAYBRIDGE_SANDBOX_AMANPAY_CALLBACK_URL": "http://callbacks:8080/callbacks/amanpay",
               "PAYBRIDGE_SANDBOX_FIRSTPAY_POSTBACK_URL": "http://callbacks:8080/callbacks/firstpay",
               "PAYBRIDGE_SANDBOX_AUTO_COMPLETE": "SUCCESS",
               "PAYBRIDGE_SANDBOX_AUTO_COMPLETE_DELAY_MS": str(AUTO_COMPLETE_DELAY_MS),
               "AMANPAY_MERCHANT_ID": "1758378", "AMANPAY_SECRET_KEY": "s3cr3t", "LOG_LEVEL": "info"}
        options = ["--entrypoint", "/usr/local/bin/paybridge-sandbox",
                   "--volume", f"{os.path.join(self.deploy, 'sandbox-test-keys')}:/keys:ro",
                   "--publish", f"127.0.0.1:{self.sandbox_port}:{SANDBOX_PORT}",
                   # compose.yaml's health check of the sandbox (the image's is PayBridge's admin port).
                   "--health-cmd", f'["paybridge-probe", "/_sandbox/health", "{SANDBOX_PORT}"]']
        for name, value in env.items():
            options += ["--env", f"{name}={value}"]
        self.pod.run("sandbox", self.paybridge_image, options=options)

    def start_paybridge(self, name, role):
        """`paybridge <role>` (worker or callbacks) as container `name`."""
        options = ["--volume", f"{self.secrets}:/run/secrets:ro"]
        for key, value in self.paybridge_env().items():
            options += ["--env", f"{key}={value}"]
        self.pod.run(name, self.paybridge_image, args=[role], options=options)

    def remove(self):
        self.pod.remove_all()
        if self.secrets:
            shutil.rmtree(self.secrets, ignore_errors=True)
