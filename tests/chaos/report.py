"""The end of a chaos run: stop the nodes, read what they logged, run
`leasehold verify`, compare ledgers with the database, sum it up."""
import json
import signal
import subprocess
import os

from cluster import psql
import ledger


def stop_nodes(run):
    """SIGTERM the live nodes; every exit not explained by a signal the
    driver sent is a crash."""
    for node in run.nodes:
        if node.alive():
            node.signal(signal.SIGTERM)
    crashed = []
    for node in run.all_nodes:
        try:
            code = node.proc.wait(timeout=run.stop_timeout_s + 15)
        except subprocess.TimeoutExpired:
            node.signal(signal.SIGKILL)
            code = node.proc.wait()
            crashed.append({"node": f"{node.name}-{node.generation}", "exit": "hung on stop"})
            continue
        sent_kill = signal.SIGKILL in node.signals
        if code == 0 or (code == -signal.SIGKILL and sent_kill):
            continue
        crashed.append({"node": f"{node.name}-{node.generation}", "exit": code})
    return crashed


def log_figures(run):
    """Supervised failures, re-registrations and refused stale writes, from
    the nodes' own logs."""
    failures, reregistered, refused = {}, 0, 0
    for node in run.all_nodes:
        for line in node.log_lines():
            msg = line.get("msg", "")
            if msg == "supervised failure":
                failures[line.get("reason", "?")] = failures.get(line.get("reason", "?"), 0) + 1
            elif msg.startswith("registration revoked"):
                reregistered += 1
            elif msg == "outcome rejected: lease no longer held":
                refused += 1
    return failures, reregistered, refused


def finish(run, stream, samples, done, baseline, quiet, a, enqueue_seconds):
    crashed = stop_nodes(run)
    failures, reregistered, refused = log_figures(run)
    acknowledged = sum(stream.batches.values())
    found = {}
    for row in psql(run.url, "SELECT payload ->> 'chaos', count(*) FROM leasehold.all_jobs"
                             " WHERE payload ? 'chaos' GROUP BY 1").splitlines():
        batch, n = row.split("|")
        found[int(batch)] = int(n)
    # A batch whose enqueue failed may still have been written (the reply
    # was lost): only acknowledged batches are counted as promised.
    lost = sum(max(0, n - found.get(b, 0)) for b, n in stream.batches.items())
    unfinished = int(psql(run.url, "SELECT count(*) FROM leasehold.jobs"
                                   " WHERE status IN ('queued', 'running')"))
    verify = subprocess.run([a.bin, "verify", "--json"], capture_output=True, text=True,
                            env=dict(os.environ, DATABASE_URL=run.url), timeout=300)
    verified = json.loads(verify.stdout) if verify.stdout.startswith("{") else {}
    successes = [tuple(int(x) if i < 2 else x for i, x in enumerate(row.split("|")))
                 for row in psql(run.url, "SELECT job_id, attempt, worker_id FROM"
                                          " leasehold.job_runs WHERE outcome = 'succeeded'"
                                 ).splitlines() if row]
    executions = ledger.read_ledgers(a.workdir, run.deaths)
    compared = ledger.compare(executions, successes)
    by_kind = {}
    for f in done:
        rec = by_kind.setdefault(f["kind"], {"count": 0, "recovery_s": []})
        rec["count"] += 1
        rec["recovery_s"].append(recovery_seconds(samples, f["healed"], baseline))
    dup = next((c["violations"] for c in verified.get("checks", [])
                if c["name"] == "one_success_per_job"), None)
    after_revocation = next((c["violations"] for c in verified.get("checks", [])
                             if c["name"] == "no_success_after_revocation"), None)
    report = {
        "seed": a.seed, "nodes": a.nodes, "minutes": a.minutes,
        "enqueue_seconds": round(enqueue_seconds, 1),
        "jobs_enqueued": acknowledged, "jobs_found": sum(found.values()),
        "lost": lost, "unfinished": unfinished,
        "runs_created": stream.runs_created, "failed_enqueues": stream.failed_enqueues,
        "succeeded_attempts": len(successes),
        "faults": by_kind, "baseline_attempts_per_s": round(baseline, 1),
        "duplicate_successes": dup, "successes_after_revocation": after_revocation,
        "stale_writes_refused": refused, "reregistrations": reregistered,
        "supervised_failures": failures, "crashed_nodes": crashed,
        "verify_exit": verify.returncode,
        "verify_violated": [c["name"] for c in verified.get("checks", [])
                            if c["violations"] > 0],
        "quiet": quiet, "problems": run.problems,
    }
    report.update(compared)
    report["passed"] = (quiet and acknowledged > 0 and report["lost"] == 0 and unfinished == 0
                        and verify.returncode == 0 and not crashed and not run.problems
                        and not compared["successes_without_execution"]
                        and not compared["successes_recorded_by_another_worker"])
    return report


def recovery_seconds(samples, healed_at, baseline):
    """From a fault's end until the 5-second average is back to 90% of the
    baseline (0 when it never dropped below)."""
    window = []
    for t, rate in samples:
        if t < healed_at:
            continue
        window = (window + [rate])[-5:]
        if len(window) == 5 and sum(window) / 5 >= 0.9 * baseline:
            return round(max(0.0, t - 4 - healed_at), 1)
    return None


def print_summary(r):
    print(f"chaos run: seed {r['seed']}, {r['nodes']} nodes, {r['minutes']} min"
          f" -> {'PASSED' if r['passed'] else 'FAILED'}")
    rows = [("jobs enqueued (acknowledged)", r["jobs_enqueued"]),
            ("jobs lost", r["lost"]), ("jobs unfinished", r["unfinished"]),
            ("succeeded attempts", r["succeeded_attempts"]),
            ("duplicate successes (verify)", r["duplicate_successes"]),
            ("successes after revocation", r["successes_after_revocation"]),
            ("stale writes refused", r["stale_writes_refused"]),
            ("re-registrations", r["reregistrations"]),
            ("jobs with overlapping executions", r["jobs_with_overlapping_executions"]),
            ("jobs whose handler succeeded twice", r["jobs_whose_handler_succeeded_twice"]),
            ("successes without an execution", len(r["successes_without_execution"])),
            ("successes by another worker", len(r["successes_recorded_by_another_worker"])),
            ("crashed nodes", len(r["crashed_nodes"])),
            ("verify", "clean" if r["verify_exit"] == 0 else r["verify_violated"]),
            ("supervised failures", r["supervised_failures"]),
            ("baseline attempts/s", r["baseline_attempts_per_s"])]
    for label, value in rows:
        print(f"  {label:<36} {value}")
    print(f"  {'fault':<20} {'count':>5}  recovery to 90% (s)")
    for kind, f in sorted(r["faults"].items()):
        print(f"  {kind:<20} {f['count']:>5}  {f['recovery_s']}")
    for p in r["problems"] + r["crashed_nodes"]:
        print(f"  problem: {p}")
