"""One reference client (`examples/<language>/run`): its commands run to completion, and `run consume` in the
background with its output collected."""
import json
import os
import queue
import signal
import subprocess
import threading
import time


class Client:
    def __init__(self, language, run_path, env, logs_dir):
        self.language, self.run_path, self.env, self.logs_dir = language, run_path, env, logs_dir
        self.consumer = None
        self.consumer_lines = queue.Queue()
        self.consumer_log = os.path.join(logs_dir, f"{language}-consume.log")

    def run(self, *arguments, timeout=120):
        """(exit status, stdout, stderr); status None when it timed out."""
        try:
            done = subprocess.run([self.run_path, *arguments], env=self.env, capture_output=True, text=True,
                                  timeout=timeout, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired as expired:
            return None, _text(expired.stdout), _text(expired.stderr)
        return done.returncode, done.stdout, done.stderr

    def status(self, order):
        """The parsed `run status ORDER` line, or a string saying what went wrong."""
        code, out, err = self.run("status", order, timeout=60)
        if code != 0:
            return f"`run status {order}` exited {code}: {err.strip()[-300:]}"
        try:
            value = json.loads(out.strip().splitlines()[-1])
        except (ValueError, IndexError):
            return f"`run status {order}` printed no JSON line: {out.strip()[-300:]!r}"
        return value if isinstance(value, dict) else f"`run status {order}` printed {value!r}"

    def start_consumer(self):
        log = open(self.consumer_log, "wb")
        self.consumer = subprocess.Popen([self.run_path, "consume"], env=self.env, stdout=subprocess.PIPE,
                                         stderr=log, stdin=subprocess.DEVNULL)
        log.close()

        def read():
            for line in self.consumer.stdout:
                self.consumer_lines.put(line.decode(errors="replace").rstrip("\n"))
            self.consumer_lines.put(None)  # end of output
        threading.Thread(target=read, daemon=True).start()

    def wait_ready(self, deadline_s):
        """(True, lines) once the consumer printed "ready"; (False, lines) at the deadline or its exit."""
        seen, deadline = [], time.monotonic() + deadline_s
        while True:
            try:
                line = self.consumer_lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                return False, seen
            if line is None:
                return False, seen
            seen.append(line)
            if line.strip() == "ready":
                return True, seen

    def stop_consumer(self, deadline_s):
        """SIGTERM; the exit status, or None when it did not exit within the deadline (then it is killed)."""
        if self.consumer is None:
            return None
        if self.consumer.poll() is None:
            self.consumer.send_signal(signal.SIGTERM)
        try:
            return self.consumer.wait(deadline_s)
        except subprocess.TimeoutExpired:
            self.consumer.kill()
            self.consumer.wait()
            return None
        finally:
            self.consumer = None


def _text(value):
    if value is None:
        return ""
    return value.decode(errors="replace") if isinstance(value, bytes) else value
