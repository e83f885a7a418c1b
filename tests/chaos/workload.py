"""The steady stream of mixed jobs a chaos run keeps enqueueing: instant,
short and long sleeps, failing ones, an external command, fan-outs with
children, and runs of partitions with an on-complete job. Each batch
carries its number in every payload, so lost jobs can be found."""
import json
import os
import subprocess
import tempfile
import threading


def exec_script(workdir):
    """The external command of chaos_exec jobs: reads its payload, works a
    little, exits 0."""
    path = os.path.join(workdir, "chaos_exec.sh")
    with open(path, "w") as f:
        f.write("#!/bin/sh\ncat >/dev/null\nsleep 0.1\nexit 0\n")
    os.chmod(path, 0o755)
    return path


class Stream:
    def __init__(self, run, rng):
        self.cluster, self.rng = run, rng
        self.batches = {}         # batch number -> jobs acknowledged
        self.runs_created = 0
        self.failed_enqueues = 0
        self._stop = threading.Event()

    def stop(self):
        self._stop.set()

    def batch(self, n):
        r, tag = self.rng, {"chaos": n}
        jobs = [{"type": "noop", "payload": dict(tag)} for _ in range(8)]
        jobs += [{"type": "sleep", "payload": dict(tag, ms=r.randint(50, 300))}
                 for _ in range(5)]
        jobs.append({"type": "sleep", "payload": dict(tag, ms=r.randint(2000, 6000))})
        jobs += [{"type": "fail", "payload": dict(tag, message="on purpose"),
                  "max_attempts": 3} for _ in range(2)]
        jobs += [{"type": "chaos_exec", "payload": dict(tag)} for _ in range(2)]
        jobs.append({"type": "fanout", "payload": dict(tag, children=3, type="noop")})
        return jobs

    def enqueue(self, args, stdin_lines):
        with tempfile.NamedTemporaryFile("w", suffix=".ndjson", delete=False) as f:
            f.write("\n".join(json.dumps(j) for j in stdin_lines) + "\n")
        try:
            out = subprocess.run([self.cluster.a.bin] + args + [f.name],
                                 env=dict(os.environ, DATABASE_URL=self.cluster.url),
                                 capture_output=True, text=True, timeout=30)
            return out.returncode == 0
        except subprocess.TimeoutExpired:
            return False
        finally:
            os.unlink(f.name)

    def run(self, stop):
        n = 0
        while not (stop.is_set() or self._stop.is_set()):
            n += 1
            jobs = self.batch(n)
            if self.enqueue(["enqueue", "--file"], jobs):
                self.batches[n] = len(jobs)
            else:
                self.failed_enqueues += 1
            if n % 10 == 0:
                parts = [{"key": f"p{i}", "payload": {"ms": 100, "chaos_run": n}}
                         for i in range(5)]
                if self.enqueue(["run", "create", "--type", "sleep", "--on-complete", "noop",
                                 "--max-attempts", "5", "--partitions"], parts):
                    self.runs_created += 1
            self._stop.wait(1.0)
