"""podman-compose and pika, pinned, in .build/compose-venv (scripts/checkkit/venv.py makes it on the first run), and
the check re-executed inside it."""
import os
import sys

from checkkit.venv import VenvError, pinned_venv

PINS = ("podman-compose==1.6.0", "pika==1.4.4")
VENV = ".build/compose-venv"


def reexec_in_venv(root, script):
    venv = root / VENV
    if os.environ.get("COMPOSE_CHECK_VENV") == str(venv):
        return
    try:
        python, made = pinned_venv(root, VENV, PINS)
    except VenvError as error:
        print(f"ERROR {error}", flush=True)
        sys.exit(1)
    if made:
        print(f"   {made}", flush=True)
    os.environ["COMPOSE_CHECK_VENV"] = str(venv)
    os.execv(str(python), [str(python), script, *sys.argv[1:]])
