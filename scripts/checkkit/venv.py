"""A pinned Python virtual environment under .build, shared by the checks that need PyPI packages (deploy-check's
schema validation, compose-check): made on the first run with `python3 -m venv` and `pip install` of the pins; pip
runs again only when the pins change (a stamp file inside the venv records them)."""
import subprocess
import sys
import time


class VenvError(Exception):
    """The venv could not be made; the message says which step failed and its last output lines."""


def pinned_venv(root, relative, pins):
    """The venv's python (a Path) with `pins` installed, and a note to print when it was made just now (else None).
    Raises VenvError."""
    venv = root / relative
    python = venv / "bin" / "python"
    stamp = venv / "paybridge-pins.txt"
    if python.exists() and stamp.exists() and stamp.read_text().strip() == " ".join(pins):
        return python, None
    started = time.monotonic()
    steps = ([] if python.exists() else [[sys.executable, "-m", "venv", str(venv)]]) + \
        [[str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *pins]]
    for step in steps:
        result = subprocess.run(step, capture_output=True, text=True)
        if result.returncode != 0:
            output = (result.stderr or result.stdout).strip().splitlines()[-15:]
            raise VenvError(f"could not make {relative} (`{' '.join(step[:4])} …` failed; it needs python3-venv and "
                            "PyPI):\n" + "\n".join("        " + line for line in output))
    stamp.write_text(" ".join(pins) + "\n")
    return python, f"made {relative} with {' '.join(pins)} ({time.monotonic() - started:.0f} s; later runs reuse it)"
