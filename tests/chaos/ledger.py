"""After a chaos run: what the handlers executed (the nodes' execution
ledgers) against what the database recorded."""
import glob
import json
import os


def read_ledgers(workdir, deaths):
    """{(job, attempt): {"worker", "start", "end", "outcome"}} from every
    ledger. An execution cut off by a kill ends at the kill (deaths: ledger
    path -> time of death, ms)."""
    runs = {}
    for path in glob.glob(os.path.join(workdir, "*.ledger")):
        died = deaths.get(path)
        with open(path, errors="replace") as f:
            for line in f:
                try:
                    e = json.loads(line)
                except ValueError:
                    continue  # the line a kill cut short
                key = (e["job"], e["attempt"])
                r = runs.setdefault(key, {"worker": e["worker"], "start": None,
                                          "end": None, "outcome": None, "died": died})
                if e["event"] == "start":
                    r["start"] = e["at_ms"]
                else:
                    r["end"], r["outcome"] = e["at_ms"], e["outcome"]
    return runs


def compare(executions, successes):
    """successes: [(job, attempt, worker)] from job_runs. Returns the
    figures and the violations."""
    missing, foreign = [], []
    for job, attempt, worker in successes:
        e = executions.get((job, attempt))
        if e is None or e["outcome"] != "succeeded":
            missing.append({"job": job, "attempt": attempt, "worker": worker,
                            "ledger": e})
        elif e["worker"] != worker:
            foreign.append({"job": job, "attempt": attempt, "recorded_by": worker,
                            "executed_by": e["worker"]})
    by_job = {}
    for (job, attempt), e in executions.items():
        if e["start"] is not None:
            end = e["end"] or e["died"] or float("inf")
            by_job.setdefault(job, []).append((e["start"], end, e["outcome"]))
    overlapping = 0
    executed_successes_twice = 0
    for spans in by_job.values():
        spans.sort()
        if any(later[0] < earlier[1] for earlier, later in zip(spans, spans[1:])):
            overlapping += 1
        if sum(1 for s in spans if s[2] == "succeeded") > 1:
            executed_successes_twice += 1
    return {
        "executions": len(executions),
        "successes_without_execution": missing,
        "successes_recorded_by_another_worker": foreign,
        "jobs_with_overlapping_executions": overlapping,
        "jobs_whose_handler_succeeded_twice": executed_successes_twice,
    }
