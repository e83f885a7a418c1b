#!/usr/bin/env python3
"""A chaos run against real leasehold nodes (see scripts/chaos.sh): K nodes,
each reaching Postgres through its own fault proxy, a steady stream of
mixed jobs, and faults at random (seeded) intervals. Afterwards, once quiet,
it checks that no job was lost, `leasehold verify` is clean, and every
recorded success matches an execution in the nodes' ledgers; it prints a
summary and writes it as JSON. Exit 0 only when everything held."""
import argparse
import json
import os
import random
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cluster import Node, Postgres, Proxy, psql  # noqa: E402
import faults  # noqa: E402
import ledger  # noqa: E402
import workload  # noqa: E402


class Run:
    def __init__(self, a):
        self.a, self.url = a, a.database_url
        self.pg = Postgres(a.root, a.pg_dir, a.pg_port)
        self.ttl_s, self.stale_s, self.stop_timeout_s = 3.0, 5.0, 5.0
        self.settings = ["--concurrency", "8", "--lease-ttl", "3s", "--stale-after", "5s",
                         "--heartbeat-interval", "500ms", "--reap-interval", "500ms",
                         "--poll-interval", "200ms", "--stop-timeout", "5s",
                         "--retry-base", "200ms", "--retry-cap", "2s",
                         "--exec", f"chaos_exec={workload.exec_script(a.workdir)}"]
        self.proxies = [Proxy(a.proxy_bin, a.pg_port) for _ in range(a.nodes)]
        self.generations = [0] * a.nodes
        self.nodes = [None] * a.nodes
        self.all_nodes, self.deaths, self.problems = [], {}, []
        for slot in range(a.nodes):
            self.restart_node(slot)

    def proxied_url(self, slot):
        return self.url.replace(f":{self.a.pg_port}/", f":{self.proxies[slot].port}/")

    def restart_node(self, slot):
        self.generations[slot] += 1
        node = Node(self.a.bin, self.proxied_url(slot), f"node{slot}", self.generations[slot],
                    self.a.workdir, self.settings, {})
        self.nodes[slot] = node
        self.all_nodes.append(node)

    def note_death(self, node):
        self.deaths[node.ledger_path] = int(time.time() * 1000)


def sample_throughput(run, samples, stop):
    """Completed attempts per second, from the database, once a second."""
    last = None
    while not stop.is_set():
        try:
            n = int(psql(run.url, "SELECT count(*) FROM leasehold.job_runs", timeout=5))
            now = time.time()
            if last is not None:
                samples.append((now, (n - last[1]) / (now - last[0])))
            last = (now, n)
        except Exception:
            samples.append((time.time(), 0.0))
        stop.wait(1.0)


def settle(run, deadline_s):
    """Heal everything, then wait until every job is terminal."""
    for p in run.proxies:
        p.command("pass")
    for slot, node in enumerate(run.nodes):
        if node.paused:
            node.signal(signal.SIGCONT)
        if not node.alive():
            run.note_death(node)
            run.restart_node(slot)
    end = time.time() + deadline_s
    while time.time() < end:
        try:
            if psql(run.url, "SELECT count(*) FROM leasehold.jobs"
                             " WHERE status IN ('queued', 'running')") == "0":
                return True
        except Exception:
            pass
        time.sleep(1)
    return False


def main():
    p = argparse.ArgumentParser()
    for flag, default in [("--minutes", 2.0), ("--nodes", 3), ("--seed", 1)]:
        p.add_argument(flag, type=type(default), default=default)
    for flag in ["--database-url", "--pg-dir", "--bin", "--proxy-bin", "--workdir", "--root",
                 "--json-out"]:
        p.add_argument(flag, required=flag != "--json-out")
    p.add_argument("--pg-port", type=int, required=True)
    a = p.parse_args()
    rng = random.Random(a.seed)
    os.makedirs(a.workdir, exist_ok=True)
    run = Run(a)
    stop, samples = threading.Event(), []
    stream = workload.Stream(run, random.Random(a.seed + 1))
    threads = [threading.Thread(target=stream.run, args=(stop,), daemon=True),
               threading.Thread(target=sample_throughput, args=(run, samples, stop),
                                daemon=True)]
    for t in threads:
        t.start()
    started = time.time()
    warmup = min(20.0, a.minutes * 60 / 6)
    time.sleep(warmup)
    baseline = sum(r for _, r in samples[2:]) / max(1, len(samples[2:]))
    kinds, done = [], []
    while time.time() - started < a.minutes * 60:
        if not kinds:
            kinds = sorted(faults.ALL)
            rng.shuffle(kinds)
        kind = kinds.pop()
        t0 = time.time()
        faults.ALL[kind](run, rng)
        done.append({"kind": kind, "started": t0, "healed": time.time()})
        time.sleep(rng.uniform(4, 8))
    stop_enqueue_at = time.time()
    stream.stop()
    quiet = settle(run, 180)
    time.sleep(2)
    stop.set()
    report = finish(run, stream, samples, done, baseline, quiet, a, stop_enqueue_at - started)
    print_summary(report)
    if a.json_out:
        with open(a.json_out, "w") as f:
            json.dump(report, f, indent=2)
    for proxy in run.proxies:
        proxy.close()
    sys.exit(0 if report["passed"] else 1)


from report import finish, print_summary  # noqa: E402

if __name__ == "__main__":
    main()
