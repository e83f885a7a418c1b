"""The faults a chaos run injects, each as production brings it. Every
fault blocks until it is over (healed), so recovery is timed from its end.
`ctx` is the running chaos.Run (nodes, proxies, Postgres, timings)."""
import signal
import subprocess
import threading
import time

from cluster import psql


def kill_node(ctx, rng):
    """SIGKILL a node and start a new one in its place."""
    slot = rng.randrange(len(ctx.nodes))
    ctx.nodes[slot].signal(signal.SIGKILL)
    ctx.nodes[slot].proc.wait()
    ctx.note_death(ctx.nodes[slot])
    ctx.restart_node(slot)


def pause_node(ctx, rng):
    """SIGSTOP a node past the stale threshold, then let it go on."""
    node = ctx.nodes[rng.randrange(len(ctx.nodes))]
    node.signal(signal.SIGSTOP)
    time.sleep(ctx.stale_s + 2)
    node.signal(signal.SIGCONT)


def term_node(ctx, rng):
    """SIGTERM a node mid-job (graceful stop), then start a new one."""
    slot = rng.randrange(len(ctx.nodes))
    ctx.nodes[slot].signal(signal.SIGTERM)
    try:
        ctx.nodes[slot].proc.wait(timeout=ctx.stop_timeout_s + 10)
    except subprocess.TimeoutExpired:
        ctx.problems.append(f"{ctx.nodes[slot].name} did not stop within its stop timeout")
        ctx.nodes[slot].signal(signal.SIGKILL)
        ctx.nodes[slot].proc.wait()
    ctx.note_death(ctx.nodes[slot])
    ctx.restart_node(slot)


def restart_postgres(ctx, rng):
    """A quick Postgres restart (every connection dropped)."""
    ctx.pg.restart()


def postgres_outage(ctx, rng):
    """Postgres stopped for longer than the stale threshold."""
    ctx.pg.stop()
    time.sleep(ctx.stale_s * 1.5)
    ctx.pg.start()


def reset_connections(ctx, rng):
    """Every connection of one node reset (RST), as a middlebox might."""
    ctx.proxies[rng.randrange(len(ctx.proxies))].command("reset")


def partition_node(ctx, rng):
    """One node's traffic silently dropped past the stale threshold: the
    others re-run its work; its late writes must be refused when it heals."""
    proxy = ctx.proxies[rng.randrange(len(ctx.proxies))]
    proxy.command("blackhole")
    time.sleep(ctx.stale_s + 3)
    proxy.command("pass")


def terminate_backends(ctx, rng):
    """Every other backend terminated twice a second for 3 seconds."""
    end = time.time() + 3
    while time.time() < end:
        try:
            psql(ctx.url, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                          " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                          " AND backend_type = 'client backend'", timeout=5)
        except Exception:
            pass
        time.sleep(0.5)


def hold_row_lock(ctx, rng):
    """Someone else's session holds a running job's row past the lease TTL."""
    hold = ctx.ttl_s * 2
    try:
        psql(ctx.url, "BEGIN; SELECT id FROM leasehold.jobs WHERE status = 'running'"
                      " ORDER BY random() LIMIT 1 FOR UPDATE; SELECT pg_sleep("
                      f"{hold}); COMMIT", timeout=hold + 10)
    except Exception:
        pass


def pin_xmin(ctx, rng):
    """An idle-in-transaction session pins xmin for 10 seconds."""
    session = subprocess.Popen(["psql", "-XAtq", ctx.url], stdin=subprocess.PIPE,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True)
    session.stdin.write("BEGIN; SELECT txid_current();\n")
    session.stdin.flush()
    time.sleep(10)
    try:
        session.stdin.write("COMMIT;\n")
        session.stdin.close()
        session.wait(timeout=10)
    except Exception:
        session.kill()


ALL = {
    "kill": kill_node, "pause": pause_node, "term": term_node,
    "pg_restart": restart_postgres, "pg_outage": postgres_outage,
    "conn_reset": reset_connections, "partition": partition_node,
    "terminate_backends": terminate_backends, "row_lock": hold_row_lock,
    "xmin_pin": pin_xmin,
}
