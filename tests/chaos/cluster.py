"""The parts a chaos run drives: Postgres, one fault proxy per node, the
node processes, and plain SQL through psql. Real processes only."""
import json
import os
import signal
import subprocess
import time


def psql(url, sql, timeout=30):
    """One SQL text through psql; returns its unaligned output."""
    out = subprocess.run(["psql", "-XAtq", "-v", "ON_ERROR_STOP=1", url, "-c", sql],
                         capture_output=True, text=True, timeout=timeout)
    if out.returncode != 0:
        raise RuntimeError(out.stderr.strip().splitlines()[-1] if out.stderr else "psql failed")
    return out.stdout.strip()


class Postgres:
    """The private cluster of scripts/pg-local.sh (dir and port from env)."""

    def __init__(self, root, pg_dir, port):
        self.root, self.env = root, dict(os.environ, LEASEHOLD_PG_DIR=pg_dir,
                                         LEASEHOLD_PG_PORT=str(port))
        self.port = port

    def _run(self, what):
        subprocess.run(["bash", os.path.join(self.root, "scripts/pg-local.sh"), what],
                       env=self.env, check=True, capture_output=True, timeout=120)

    def stop(self):
        self._run("stop")

    def start(self):
        self._run("start")

    def restart(self):
        self._run("restart")


class Proxy:
    """A leasehold-fault-proxy between one node and Postgres."""

    def __init__(self, binary, target_port):
        self.proc = subprocess.Popen(
            [binary, "--listen", "127.0.0.1:0", "--target", f"127.0.0.1:{target_port}"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        # "listening 127.0.0.1:PORT target HOST:PORT"
        first = self.proc.stdout.readline().split()
        self.port = int(first[1].rsplit(":", 1)[1])

    def command(self, line):
        """pass, blackhole, reset or delay MS; waits for its "ok"."""
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        return self.proc.stdout.readline().strip()

    def close(self):
        self.proc.kill()
        self.proc.wait()


class Node:
    """One `leasehold node` process; a restart is a new Node."""

    def __init__(self, binary, url, name, generation, workdir, settings, env_extra):
        self.name, self.generation = name, generation
        self.log_path = os.path.join(workdir, f"{name}-{generation}.log")
        self.ledger_path = os.path.join(workdir, f"{name}-{generation}.ledger")
        args = [binary, "node", "--database-url", url, "--worker-base", f"chaos-{name}",
                "--execution-ledger", self.ledger_path, "--http-listen", "127.0.0.1:0",
                "--log-level", "info"] + settings
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT,
                                     env=dict(os.environ, **env_extra))
        self.started = time.time()
        self.signals = []      # what the driver sent, so its exit is explained
        self.paused = False

    def signal(self, sig):
        self.signals.append(sig)
        self.proc.send_signal(sig)
        self.paused = sig == signal.SIGSTOP

    def alive(self):
        return self.proc.poll() is None

    def exit_code(self):
        return self.proc.poll()

    def log_lines(self):
        lines = []
        with open(self.log_path, errors="replace") as f:
            for line in f:
                try:
                    lines.append(json.loads(line))
                except ValueError:
                    pass
        return lines
