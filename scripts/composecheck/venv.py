"""podman-compose and pika, pinned, in .build/compose-venv (python3 -m venv and pip from PyPI on the first run; pip
runs again only when PINS change), and the check re-executed inside it."""
import os
import subprocess
import sys
import time

PINS = ("podman-compose==1.6.0", "pika==1.4.4")
VENV = ".build/compose-venv"


def reexec_in_venv(root, script):
    venv = root / VENV
    python = venv / "bin" / "python"
    if os.environ.get("COMPOSE_CHECK_VENV") == str(venv):
        return
    stamp = venv / "paybridge-pins.txt"
    if not (python.exists() and stamp.exists() and stamp.read_text().strip() == " ".join(PINS)):
        started = time.monotonic()
        steps = ([] if python.exists() else [[sys.executable, "-m", "venv", str(venv)]]) + \
            [[str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *PINS]]
        for step in steps:
            result = subprocess.run(step, capture_output=True, text=True)
            if result.returncode != 0:
                print(f"ERROR could not make {VENV} (`{' '.join(step[:4])} …` failed; it needs python3-venv and "
                      f"PyPI):\n{(result.stderr or result.stdout).strip()[-2000:]}", flush=True)
                sys.exit(1)
        stamp.write_text(" ".join(PINS) + "\n")
        print(f"   made {VENV} with {' '.join(PINS)} ({time.monotonic() - started:.0f} s; later runs reuse it)",
              flush=True)
    os.environ["COMPOSE_CHECK_VENV"] = str(venv)
    os.execv(str(python), [str(python), script, *sys.argv[1:]])
