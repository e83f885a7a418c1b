#!/usr/bin/env python3
"""Folds the per-round results of scripts/bench-peers.sh into a markdown table.

usage: summarize.py RESULTS.jsonl META.tsv OUT.md OUT.csv

RESULTS.jsonl: one JSON object per measurement, {"round", "system", "kind",
"config", "result": <the driver's JSON line>}. META.tsv: "key<TAB>value" lines
about the machine and the run, printed at the top. Writes OUT.csv (one row per
round and measure: the raw per-round numbers) and OUT.md, and prints OUT.md.
Every cell is the median [min..max] over rounds; ratios use the medians.
"""
import csv
import json
import statistics
import sys

SYSTEMS = [("leasehold", "leasehold"), ("graphile", "graphile-worker 0.18.0"),
           ("pgboss", "pg-boss 12.38.0")]
PEERS = ["graphile", "pgboss"]
# (measure id, label, higher is better)
MEASURES = [("drain", "drain jobs/s", True),
            ("enqueue", "bulk enqueue jobs/s", True),
            ("paced_p50", "paced pickup p50 ms", False),
            ("paced_p99", "paced pickup p99 ms", False),
            ("closed_p50", "closed-loop pickup p50 ms", False),
            ("closed_p99", "closed-loop pickup p99 ms", False)]
RAW = [("ref_claim_complete", 100, "reference claim + UPDATE complete (raw/claim_complete.sql)"),
       ("ref_claim_complete", 500, "reference claim + UPDATE complete (raw/claim_complete.sql)"),
       ("ref_claim_delete", 500, "reference claim + DELETE (raw/claim_delete.sql)"),
       ("lh_claim_complete", 100, "leasehold's claim + complete + job_runs (leasehold_claim_complete.sql)"),
       ("lh_claim_complete", 500, "leasehold's claim + complete + job_runs (leasehold_claim_complete.sql)"),
       ("lh_claim_complete", 1000, "leasehold's claim + complete + job_runs (leasehold_claim_complete.sql)")]


def measures_of(rec):
    """(measure, value) pairs one result line contributes."""
    r, kind = rec["result"], rec["kind"]
    if kind == "throughput":
        return [("drain", r["drain_jobs_per_s"]), ("enqueue", r["enqueue_jobs_per_s"])]
    if kind == "latency" and rec["system"] == "leasehold":  # leasehold-bench: both modes in one line
        return [("paced_p50", r["paced"]["p50_ms"]), ("paced_p99", r["paced"]["p99_ms"]),
                ("closed_p50", r["closed_loop"]["p50_ms"]), ("closed_p99", r["closed_loop"]["p99_ms"])]
    if kind == "latency":
        return [(f"{r['mode']}_p50", r["p50_ms"]), (f"{r['mode']}_p99", r["p99_ms"])]
    if kind == "pgbench":
        return [(f"{r['script']}:b{r['batch']}", r["jobs_per_s"])]
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

    def cell(system, m, latency):
        v = vals(system, m)
        if not v:
            return "-"
        f = (lambda x: f"{x:.2f}") if latency else (lambda x: f"{x:,.0f}")
        return f"{f(statistics.median(v))} [{f(min(v))}..{f(max(v))}]" if len(v) > 1 else f(v[0])

    def ratio(a, b):
        return f"{a / b:.2f}x" if a is not None and b else "-"

    out = []
    P = out.append
    P("# leasehold and its peers, one run, one private Postgres\n")
    with open(meta_path) as f:
        for line in f:
            k, _, v = line.rstrip("\n").partition("\t")
            P(f"- **{k}**: {v}")
    P("")
    P("Each cell: median [min..max] over rounds (systems interleaved, order rotated each round). "
      "Ratios divide medians: for throughput > 1 means leasehold is faster, "
      "for latency < 1 means leasehold is quicker.\n")
    P("| measure | " + " | ".join(name for _, name in SYSTEMS)
      + " | leasehold / best peer | leasehold / graphile-worker | leasehold / pg-boss |")
    P("|---|" + "---|" * (len(SYSTEMS) + 3))
    for m, label, higher in MEASURES:
        peers = [med(p, m) for p in PEERS if med(p, m) is not None]
        best = (max(peers) if higher else min(peers)) if peers else None
        lh = med("leasehold", m)
        P(f"| {label} | " + " | ".join(cell(s, m, not higher) for s, _ in SYSTEMS)
          + f" | {ratio(lh, best)} | {ratio(lh, med('graphile', m))} | {ratio(lh, med('pgboss', m))} |")
    P("")
    P("Raw Postgres limit (pgbench, best client count of each round; jobs/s = transactions/s x batch):\n")
    P("| pgbench script | claim batch | jobs/s | leasehold drain / this |")
    P("|---|---|---|---|")
    lh_drain = med("leasehold", "drain")
    for script, batch, label in RAW:
        m = f"{script}:b{batch}"
        P(f"| {label} | {batch} | {cell('raw', m, False)} | {ratio(lh_drain, med('raw', m))} |")
    P("")
    P("How each figure is taken (details: benchmarks/peers/README.md): drain = leasehold: first attempt's "
      "start to last attempt's finish in job_runs; graphile-worker: jobs / (wall of the parallel `--once` "
      "processes - startup of one on an empty queue), perfTest's formula; pg-boss: wall from \"go\" to no "
      "job left. Bulk enqueue = one call with all jobs (enqueue_many / add_jobs() / insert()). ANALYZE runs "
      "after every bulk load, for every system. Pickup = handler start minus the moment the enqueue call was "
      "issued, one process, one clock.")
    text = "\n".join(out) + "\n"
    with open(out_md, "w") as f:
        f.write(text)
    print(text, end="")


if __name__ == "__main__":
    main()
