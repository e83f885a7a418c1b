#!/usr/bin/env python3
"""The cluster view and instant cancel with N `leasehold node` processes
(issue 21), run by scripts/bench-cluster.sh against its private Postgres.

Phases, all on one database:
  1. links on: N nodes start; seconds until every node's GET /cluster lists
     all N reachable (full mesh); each node runs 2 sleeping jobs.
  2. view: SAMPLES GET /cluster on one node, timed by this driver (wall
     clock of the HTTP request): p50/p99 and the body size.
  3. cancel: CANCELS times, a 60 s `/bin/sleep` exec job runs on some node;
     POST /jobs/ID/cancel goes to another node; the time from the HTTP reply
     to the end line in the owner's execution ledger.
  4. idle cost: CPU seconds and RSS of every node over IDLE_S seconds with
     the links up and no jobs, then the same with nodes started with
     --cluster-listen off, and a few cancels without links (each waits for
     the owner's next heartbeat).
Prints one JSON line with the figures."""
import json, os, signal, statistics, subprocess, sys, time, urllib.request

BIN, DSN, N = os.environ["LH_BIN"], os.environ["LH_DSN"], int(os.environ["LH_NODES"])
SAMPLES, CANCELS = int(os.environ["LH_SAMPLES"]), int(os.environ["LH_CANCELS"])
IDLE_S, LOGS = float(os.environ["LH_IDLE_S"]), os.environ["LH_LOGS"]
TOKEN = "bench-cluster-token"
HZ = os.sysconf("SC_CLK_TCK")


def psql(sql):
    out = subprocess.run(["/usr/lib/postgresql/15/bin/psql", "-X", "-At", "-d", DSN, "-c", sql],
                         check=True, capture_output=True, text=True).stdout
    return out.strip()


def start_nodes(extra, tag):
    nodes = []
    for i in range(N):
        log = open(f"{LOGS}/{tag}-node{i}.log", "w")
        ledger = f"{LOGS}/{tag}-ledger{i}.jsonl"
        args = [BIN, "node", "--database-url", DSN, "--concurrency", "2", "--prefetch", "0",
                "--heartbeat-interval", "2s", "--lease-ttl", "10s", "--stale-after", "15s",
                "--http-listen", "127.0.0.1:0", "--http-token", TOKEN,
                "--exec", "sleeper=/bin/sleep 60", "--execution-ledger", ledger] + extra
        p = subprocess.Popen(args, stderr=log, stdout=subprocess.DEVNULL)
        nodes.append({"proc": p, "log": log.name, "ledger": ledger})
    for n in nodes:
        deadline = time.time() + 30
        while time.time() < deadline:
            for line in open(n["log"]):
                j = json.loads(line) if line.startswith("{") else {}
                if j.get("msg") == "http listening":
                    n["http"] = "http://" + j["address"]
                    n["worker"] = j["worker_id"]
            if "http" in n:
                break
            time.sleep(0.05)
        else:
            sys.exit(f"node did not start: {n['log']}")
    return nodes


def stop_nodes(nodes):
    for n in nodes:
        n["proc"].send_signal(signal.SIGTERM)
    for n in nodes:
        n["proc"].wait(timeout=60)


def get(url, data=None):
    req = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET",
                                 headers={"Authorization": "Bearer " + TOKEN})
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.read()


def pct(xs, q):
    xs = sorted(xs)
    return round(xs[min(len(xs) - 1, int(q * len(xs)))], 2)


def cpu_and_rss(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / HZ
    rss = 0
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1]) // 1024
    return cpu, rss


def idle_cost(nodes):
    before = [cpu_and_rss(n["proc"].pid)[0] for n in nodes]
    time.sleep(IDLE_S)
    after = [cpu_and_rss(n["proc"].pid) for n in nodes]
    cpu = [round((a[0] - b) / IDLE_S * 100, 2) for a, b in zip(after, before)]
    return {"cpu_percent_per_node_median": statistics.median(cpu),
            "rss_mib_per_node_median": statistics.median([a[1] for a in after]),
            "threads_per_node": len(os.listdir(f"/proc/{nodes[0]['proc'].pid}/task"))}


def ledger_end(path, job):
    if not os.path.exists(path):
        return None
    for line in open(path):
        e = json.loads(line)
        if e.get("job") == job and e.get("event") == "end":
            return e["at_ms"]
    return None


def main():
    out = {"nodes": N}
    psql("DELETE FROM leasehold.jobs; DELETE FROM leasehold.worker_instances")
    began = time.time()
    nodes = start_nodes([], "on")
    while True:
        try:
            views = [json.loads(get(n["http"] + "/cluster")) for n in nodes]
            if all(v["reachable"] == N for v in views):
                break
        except Exception:
            pass
        if time.time() - began > 60:
            sys.exit("no full mesh within 60 s")
        time.sleep(0.05)
    out["full_mesh_seconds_after_start"] = round(time.time() - began, 2)

    # Two running jobs per node, so the view carries attempts.
    psql(f"SELECT leasehold.enqueue('sleep', '{{\"ms\": 600000}}') FROM generate_series(1, {2 * N})")
    while int(psql("SELECT count(*) FROM leasehold.jobs WHERE status = 'running'")) < 2 * N:
        time.sleep(0.05)
    time.sleep(1)
    lat, size = [], 0
    for i in range(SAMPLES):
        t = time.perf_counter()
        body = get(nodes[i % N]["http"] + "/cluster")
        lat.append((time.perf_counter() - t) * 1000)
        v = json.loads(body)
        assert v["reachable"] == N and sum(n["in_flight"] for n in v["nodes"]) == 2 * N, v
        size = len(body)
    out["view_ms_p50"], out["view_ms_p99"], out["view_ms_max"] = pct(lat, .5), pct(lat, .99), round(max(lat), 2)
    out["view_bytes"] = size
    psql("UPDATE leasehold.jobs SET status = 'cancelled' WHERE type = 'sleep'")  # their owners drop them
    time.sleep(3)

    cancel = measure_cancels(nodes, CANCELS)
    out["cancel_ms_p50"], out["cancel_ms_p99"], out["cancel_ms_max"] = pct(cancel, .5), pct(cancel, .99), round(max(cancel), 1)
    out["idle_links_on"] = idle_cost(nodes)
    stop_nodes(nodes)

    psql("DELETE FROM leasehold.jobs; DELETE FROM leasehold.worker_instances")
    nodes = start_nodes(["--cluster-listen", "off"], "off")
    time.sleep(2)
    out["idle_links_off"] = idle_cost(nodes)
    # Without links a cancel waits for the owner's next heartbeat (2 s here).
    off = measure_cancels(nodes, max(3, CANCELS // 5))
    out["cancel_links_off_ms_p50"], out["cancel_links_off_ms_max"] = pct(off, .5), round(max(off), 1)
    stop_nodes(nodes)
    print(json.dumps(out))


def measure_cancels(nodes, count):
    cancel = []
    for i in range(count):
        job = int(psql("SELECT id FROM leasehold.enqueue('sleeper')"))
        while True:
            owner = psql(f"SELECT locked_by FROM leasehold.jobs WHERE id = {job} AND status = 'running'")
            if owner:
                break
            time.sleep(0.01)
        time.sleep(0.2)
        asker = next(n for n in nodes if n["worker"] != owner)
        owner_node = next(n for n in nodes if n["worker"] == owner)
        get(asker["http"] + f"/jobs/{job}/cancel", data=b"")
        replied = time.time() * 1000
        while (end := ledger_end(owner_node["ledger"], job)) is None:
            time.sleep(0.005)
        cancel.append(end - replied)
    return cancel


main()
