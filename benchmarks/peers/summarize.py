#!/usr/bin/env python3
"""Folds the per-round results of scripts/bench-peers.sh into a markdown report.

usage: summarize.py RESULTS.jsonl META.tsv OUT.md OUT.csv

RESULTS.jsonl: one JSON object per measurement, {"round", "system", "kind",
"config", "result": <the driver's JSON line>}; kind is run (a drain at 2 x 24,
config = the handler: noop, sleep1, sleep10, exec), latency, pgbench or
inprocess. META.tsv: "key<TAB>value" lines about the machine and the run,
printed at the top. Writes OUT.csv (one row per round and measure: the raw
per-round numbers) and OUT.md, and prints OUT.md. Every cell is the median
[min..max] over rounds; ratios use the medians.
"""
import csv
import json
import statistics
import sys

SYSTEMS = [("leasehold", "leasehold"), ("graphile", "graphile-worker 0.18.0"),
           ("pgboss", "pg-boss 12.38.0")]
PEERS = ["graphile", "pgboss"]
CONFIGS = {
    "leasehold": "2 x `leasehold node --concurrency 24` (separate processes, from the CLI)",
    "graphile": "perfTest: 2 x `graphile-worker --once`, concurrentJobs 24, localQueue 500",
    "pgboss": "2 processes x work() batchSize 100, localConcurrency 4, burst; at most 24 handlers at once each",
}
SLOTS = 48
# (handler key, label, handler time in ms or None)
HANDLERS = [("noop", "no-op", None),
            ("sleep1", "sleep 1 ms", 1),
            ("sleep10", "sleep 10 ms", 10),
            ("exec", "external program per job (`/bin/true`)", None)]
LATENCY = [("paced_p50", "paced pickup p50 ms"), ("paced_p99", "paced pickup p99 ms"),
           ("closed_p50", "closed-loop pickup p50 ms"), ("closed_p99", "closed-loop pickup p99 ms")]
RAW = [("ref_claim_complete", 100, "reference claim + UPDATE complete (raw/claim_complete.sql)"),
       ("ref_claim_complete", 500, "reference claim + UPDATE complete (raw/claim_complete.sql)"),
       ("ref_claim_delete", 500, "reference claim + DELETE (raw/claim_delete.sql)"),
       ("lh_claim_complete", 100, "leasehold's claim + complete + job_runs (leasehold_claim_complete.sql)"),
       ("lh_claim_complete", 500, "leasehold's claim + complete + job_runs (leasehold_claim_complete.sql)"),
       ("lh_claim_complete", 1000, "leasehold's claim + complete + job_runs (leasehold_claim_complete.sql)")]


def measures_of(rec):
    """(measure, value) pairs one result line contributes."""
    r, kind, cfg = rec["result"], rec["kind"], rec.get("config", "")
    if kind == "run":
        out = [(f"wall:{cfg}", r["jobs_per_s_wall"]), (f"jobs:{cfg}", r["jobs"])]
        if cfg == "noop":
            out.append(("enqueue", r["enqueue_jobs_per_s"]))
            if "startup_ms" in r:  # pg-boss's driver does not time a startup apart
                out.append(("startup_ms", r["startup_ms"]))
            if "startup_ms" in r and r["wall_ms"] > r["startup_ms"]:  # perfTest's printed formula
                out.append(("minus_startup", r["jobs"] / ((r["wall_ms"] - r["startup_ms"]) / 1000)))
            if "db_last_finish_ms" in r:  # leasehold: how late the poll saw the end
                out.append(("poll_late_ms", r["wall_ms"] - r["db_last_finish_ms"]))
            if "exit_ms" in r:  # leasehold: with the nodes' shutdown, as a `--once` exit has it
                out.append(("wall_exit", r["jobs"] / (r["exit_ms"] / 1000)))
        if "node_cpu_us_per_job" in r:
            out.append((f"cpu:{cfg}", r["node_cpu_us_per_job"]))
        return out
    if kind == "latency" and "paced" in r:  # leasehold-bench, in-process: both modes in one line
        return [("inproc_paced_p50", r["paced"]["p50_ms"]), ("inproc_paced_p99", r["paced"]["p99_ms"]),
                ("inproc_closed_p50", r["closed_loop"]["p50_ms"]),
                ("inproc_closed_p99", r["closed_loop"]["p99_ms"])]
    if kind == "latency":
        return [(f"{r['mode']}_p50", r["p50_ms"]), (f"{r['mode']}_p99", r["p99_ms"])]
    if kind == "pgbench":
        return [(f"{r['script']}:b{r['batch']}", r["jobs_per_s"])]
    if kind == "inprocess":
        return [("inproc_drain", r["drain_jobs_per_s"]), ("inproc_enqueue", r["enqueue_jobs_per_s"])]
    raise SystemExit(f"summarize.py: unknown result kind {kind!r}")


def main():
    results, meta_path, out_md, out_csv = sys.argv[1:5]
    # per[(system, measure)][round] = value; pgbench keeps the best client count of the round
    per, rows = {}, []
    with open(results) as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
                pairs = measures_of(rec)
            except (ValueError, KeyError) as e:
                raise SystemExit(f"summarize.py: {results}:{n}: bad result line ({e})")
            for m, v in pairs:
                v = float(v)
                rows.append([rec["round"], rec["system"], m, f"{v:.3f}", rec.get("config", "")])
                cell = per.setdefault((rec["system"], m), {})
                cell[rec["round"]] = max(v, cell.get(rec["round"], v))
    with open(out_csv, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["round", "system", "measure", "value", "config"])
        w.writerows(rows)

    def vals(system, m):
        return list(per.get((system, m), {}).values())

    def med(system, m):
        v = vals(system, m)
        return statistics.median(v) if v else None

    def cell(system, m, fmt="{:,.0f}"):
        v = vals(system, m)
        if not v:
            return "-"
        f = fmt.format
        return f"{f(statistics.median(v))} [{f(min(v))}..{f(max(v))}]" if len(v) > 1 else f(v[0])

    def ratio(a, b):
        return f"{a / b:.2f}x" if a is not None and b else "-"

    present = [s for s, _ in SYSTEMS if any(k[0] == s for k in per)]
    names = dict(SYSTEMS)
    out = []
    P = out.append
    P("# leasehold and its peers, one run, one private Postgres\n")
    with open(meta_path) as f:
        for line in f:
            k, _, v = line.rstrip("\n").partition("\t")
            P(f"- **{k}**: {v}")
    P("")
    P("Each cell: median [min..max] over rounds (systems interleaved, order rotated each round). "
      "Ratios divide medians.\n")

    if any(vals(s, "wall:noop") for s in present):
        jobs = med("leasehold", "jobs:noop") or next(med(s, "jobs:noop") for s in present if vals(s, "jobs:noop"))
        P(f"## 1. Drain: {jobs:,.0f} no-op jobs, 2 processes x 24 concurrent handlers (the comparison)\n")
        P("jobs/s = jobs / wall clock from starting the worker processes to the last completion "
          "(graphile-worker's `jobs_per_s_wall`: until its `--once` processes have exited; leasehold: "
          "until a poll of the database every 10 ms finds no job queued or running; pg-boss: until its "
          "workers have handled every job and a poll every 10 ms finds none left in created/retry/active). "
          "Startup of the processes is inside the wall time for every system.\n")
        P("| system | how it runs | jobs/s (wall) | leasehold / this |")
        P("|---|---|---|---|")
        lh = med("leasehold", "wall:noop")
        for s in present:
            if vals(s, "wall:noop"):
                P(f"| {names[s]} | {CONFIGS[s]} | {cell(s, 'wall:noop')} | "
                  f"{'-' if s == 'leasehold' else ratio(lh, med(s, 'wall:noop'))} |")
        P("")
        for p in PEERS:
            a, b = per.get(("leasehold", "wall:noop"), {}), per.get((p, "wall:noop"), {})
            common = sorted(set(a) & set(b))
            if common:
                P(f"Per round, leasehold / {names[p]}: "
                  + ", ".join(f"{a[r] / b[r]:.2f}x" for r in common) + ".")
        P("")

    if any(vals(s, f"wall:{k}") for s in present for k, _, _ in HANDLERS[1:]):
        P(f"## 2. Handlers at 2 x 24 ({SLOTS} slots)\n")
        P(f"jobs/s measured as in section 1. Share = jobs/s / slot limit, where the slot limit is "
          f"{SLOTS} slots / handler time (48,000 jobs/s at 1 ms, 4,800 at 10 ms). leasehold's `sleep` "
          "handler blocks its handler thread (`std::this_thread::sleep_for`); the peers' handlers wait with "
          "`setTimeout`, which leaves their event loop free, so 24 of them wait at once per process "
          "(a synchronous sleep would run one job at a time per process). The external program gets the "
          "payload as JSON on stdin, its output is read to the end, exit 0 is success "
          "(leasehold: `--exec`; peers: `child_process.spawn` per job).\n")
        P("| handler | jobs per run | slot limit jobs/s | "
          + " | ".join(f"{names[s]} jobs/s | share" for s in present) + " |")
        P("|---|---|---|" + "---|---|" * len(present))
        for key, label, ms in HANDLERS:
            if not any(vals(s, f"wall:{key}") for s in present):
                continue
            limit = SLOTS * 1000 / ms if ms else None
            jobs = next((med(s, f"jobs:{key}") for s in present if vals(s, f"jobs:{key}")), None)
            cells = []
            for s in present:
                m = med(s, f"wall:{key}")
                cells.append(cell(s, f"wall:{key}"))
                cells.append(f"{m / limit:.0%}" if m is not None and limit else "-")
            P(f"| {label} | {jobs:,.0f} | {f'{limit:,.0f}' if limit else '-'} | " + " | ".join(cells) + " |")
        if vals("leasehold", "cpu:noop"):
            P("")
            P("leasehold nodes' CPU per job (both processes, user + system): "
              + ", ".join(f"{label} {cell('leasehold', f'cpu:{key}', '{:,.1f}')} us"
                          for key, label, _ in HANDLERS if vals("leasehold", f"cpu:{key}")) + ".")
        P("")

    P("## 3. Other figures (not the comparison)\n")
    P("| measure | " + " | ".join(names[s] for s in present) + " |")
    P("|---|" + "---|" * len(present))
    other = [("enqueue", "bulk enqueue jobs/s, one call (leasehold: `leasehold enqueue --file`, CLI start included; "
              "graphile-worker: `add_jobs()`; pg-boss: `insert()`)", "{:,.0f}"),
             ("startup_ms", "startup + shutdown on an empty queue, ms (leasehold: start until its registration is "
              "RUNNING, then SIGTERM until exit; graphile-worker: one `--once`)", "{:,.0f}"),
             ("minus_startup", "no-op drain by perfTest's printed formula, jobs / (wall - startup)", "{:,.0f}"),
             ("poll_late_ms", "no-op drain: the poll's end minus the last `finished_at` in job_runs, ms", "{:,.0f}"),
             ("wall_exit", "no-op drain jobs/s with the nodes' shutdown in the wall time (SIGTERM when the "
              "poll sees the end, until both exited)", "{:,.0f}")]
    other += [(m, label + " (leasehold: a `leasehold node --concurrency 24` process, separate client)", "{:.2f}")
              for m, label in LATENCY]
    for m, label, fmt in other:
        if any(vals(s, m) for s in present):
            P(f"| {label} | " + " | ".join(cell(s, m, fmt) for s in present) + " |")
    P("")

    lh_p99 = med("leasehold", "paced_p99")
    if lh_p99 is not None:
        peer_p99 = {p: med(p, "paced_p99") for p in PEERS if vals(p, "paced_p99")}
        ahead = peer_p99 and all(lh_p99 < v for v in peer_p99.values())
        P(f"Paced pickup target (issue 18: a separate client, one job every 50 ms; ahead of both peers, "
          f"p99 <= 3 ms): leasehold p99 {lh_p99:.2f} ms"
          + "".join(f", {names[p]} {v:.2f} ms" for p, v in peer_p99.items())
          + f"; p99 <= 3 ms: {'met' if lh_p99 <= 3 else 'missed'}; ahead of "
          + ("both peers: " + ("yes" if ahead else "no") if len(peer_p99) == 2 else "the peers: not measured")
          + ".\n")

    if any(k[0] == "raw" for k in per):
        P("## 4. Raw Postgres limit (pgbench, best client count of each round; jobs/s = transactions/s x batch)\n")
        P("| pgbench script | claim batch | jobs/s | leasehold 2 x 24 no-op drain / this |")
        P("|---|---|---|---|")
        lh_drain = med("leasehold", "wall:noop")
        for script, batch, label in RAW:
            m = f"{script}:b{batch}"
            P(f"| {label} | {batch} | {cell('raw', m)} | {ratio(lh_drain, med('raw', m))} |")
        P("")

    if vals("leasehold", "inproc_drain") or vals("leasehold", "inproc_paced_p50"):
        P("## 5. Secondary, NOT a comparison: leasehold in-process, many slots\n")
        P("`leasehold-bench --scenario throughput` runs its nodes inside the benchmark process with the "
          "slots given in the meta line above (not 2 x 24), and times the drain from the first attempt's "
          "`started_at` to the last one's `finished_at` in job_runs, after startup. It shows what the "
          "claim/complete path can do, not what users see from `leasehold node` processes; no peer ran "
          "this way.\n")
        P("| measure | leasehold |")
        P("|---|---|")
        if vals("leasehold", "inproc_drain"):
            P(f"| drain jobs/s (in-process, first start to last finish) | {cell('leasehold', 'inproc_drain')} |")
            P(f"| bulk enqueue jobs/s (`enqueue_many`, in-process) | {cell('leasehold', 'inproc_enqueue')} |")
        for m, label in LATENCY:
            if vals("leasehold", f"inproc_{m}"):
                P(f"| {label} (`leasehold-bench --scenario latency`, node in-process) | "
                  f"{cell('leasehold', f'inproc_{m}', '{:.2f}')} |")
        P("")

    P("Method: benchmarks/peers/README.md. ANALYZE and CHECKPOINT run after every bulk load, for every "
      "system. Pickup = handler start minus the moment just before the enqueue call, on one clock (peers: "
      "producer and worker in one process; leasehold: the client reads the node's \"job started\" log "
      "line through a pipe and stamps its arrival).")
    text = "\n".join(out) + "\n"
    with open(out_md, "w") as f:
        f.write(text)
    print(text, end="")


if __name__ == "__main__":
    main()
