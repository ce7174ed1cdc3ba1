"""The test's broker side: a fresh vhost, the three role users of deploy/rabbitmq-definitions.json with fresh
passwords and exactly that file's permission regexes (moved to the vhost), and their AMQP URLs."""
import json
import os
import subprocess
from urllib.parse import quote

ROLES = ("paybridge", "payments-producer", "payments-consumer")


class BrokerSetupError(Exception):
    pass


def rabbitmqctl(*arguments, check=True):
    try:
        done = subprocess.run(["rabbitmqctl", "-q", *arguments], capture_output=True, text=True, timeout=90)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise BrokerSetupError(f"rabbitmqctl {arguments[0]}: {error}") from None
    if check and done.returncode != 0:
        shown = [a if a not in _secrets else "***" for a in arguments]
        raise BrokerSetupError(f"rabbitmqctl {' '.join(shown)} exited {done.returncode}: "
                               f"{(done.stderr or done.stdout).strip()[:500]}")
    return done


_secrets = set()


def role_permissions(definitions_file):
    """{user: (configure, write, read)} from the definitions file's "permissions"."""
    with open(definitions_file) as f:
        entries = json.load(f)["permissions"]
    found = {e["user"]: (e["configure"], e["write"], e["read"]) for e in entries if e["user"] in ROLES}
    missing = set(ROLES) - set(found)
    if missing:
        raise BrokerSetupError(f"{definitions_file} grants no permissions to {', '.join(sorted(missing))}")
    return found


# The password Tests/PayBridgeTests/BrokerRolesSupport.swift gives the role users on the local test broker.
TEST_ROLE_PASSWORD = "paybridge-test-role"


class Broker:
    """host:port from EXAMPLES_BROKER (default 127.0.0.1:5672). The three role users are shared by everything on the
    local test broker (the Swift end-to-end tests create them too), so all use one test password:
    EXAMPLES_ROLE_PASSWORD, default the Swift tests' (BrokerRolesSupport.password); runs side by side then never
    reset each other's passwords."""

    def __init__(self, vhost, definitions_file):
        self.vhost = vhost
        self.address = os.environ.get("EXAMPLES_BROKER", "127.0.0.1:5672")
        self.permissions = role_permissions(definitions_file)
        shared = os.environ.get("EXAMPLES_ROLE_PASSWORD", TEST_ROLE_PASSWORD)
        self.passwords = {user: shared for user in ROLES}
        _secrets.update(self.passwords.values())

    def url(self, user):
        return f"amqp://{quote(user, safe='')}:{quote(self.passwords[user], safe='')}@{self.address}/" \
               f"{quote(self.vhost, safe='')}"

    def create(self):
        """Returns what it did, one line per step."""
        done = []
        rabbitmqctl("delete_vhost", self.vhost, check=False)
        rabbitmqctl("add_vhost", self.vhost)
        done.append(f"vhost {self.vhost} (fresh)")
        for user in ROLES:
            if rabbitmqctl("add_user", user, self.passwords[user], check=False).returncode == 0:
                how = "created"
            else:  # the user exists (other tests create them): a new password instead
                rabbitmqctl("change_password", user, self.passwords[user])
                how = "existed, password changed"
            configure, write, read = self.permissions[user]
            rabbitmqctl("set_permissions", "-p", self.vhost, user, configure, write, read)
            done.append(f"user {user} ({how}): configure {configure!r} write {write!r} read {read!r}")
        return done

    def delete(self):
        rabbitmqctl("delete_vhost", self.vhost, check=False)
