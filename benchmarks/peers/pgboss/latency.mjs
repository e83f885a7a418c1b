// pg-boss pickup latency: work() handler start minus the moment boss.send() was
// issued, one process, one clock; same harness as graphile/latency.mjs (adapted
// from the reference benchmarks-peers/pgboss/latency.mjs). Measured in pg-boss's
// low-latency setup: useListenNotify + queue {notify: true} (opt-in in pg-boss 12).
// Env: LAT_MODE paced|closed, LAT_SAMPLES (200), LAT_GAP_MS (50), PEERS_PG_HOST/PORT.
import { PgBoss } from 'pg-boss';
import { dbUrl, env, envInt, nowMs, recreateDb, sleep, summarize, watchdog } from '../lib/stats.mjs';

watchdog('pg-boss latency');
const DB = env('PB_DB', 'pb_lat');
const MODE = env('LAT_MODE', 'paced');
const SAMPLES = envInt('LAT_SAMPLES', 200);
const GAP = envInt('LAT_GAP_MS', 50);
const Q = 'latency';

await recreateDb(DB);
const boss = new PgBoss({ connectionString: dbUrl(DB), useListenNotify: true });
boss.on('error', (e) => console.error('boss error', e.message));
await boss.start();
await boss.createQueue(Q, { notify: true });
const start = new Map(); const lat = []; const waiters = new Map();
await boss.work(Q, { batchSize: 1, localConcurrency: 1, pollingIntervalSeconds: 0.5 }, async (jobs) => {
  const t = nowMs();
  for (const j of jobs) {
    const { id } = j.data;
    if (id >= 0) lat.push(t - start.get(id));
    const w = waiters.get(id); if (w) w();
  }
});
for (let i = 1; i <= 20; i++) { // warm-up: 20 jobs, one at a time
  const d = new Promise((r) => waiters.set(-i, r));
  await boss.send(Q, { id: -i }); await d;
}
await sleep(1000);

const tRun = nowMs();
for (let id = 0; id < SAMPLES; id++) {
  const done = new Promise((r) => waiters.set(id, r));
  start.set(id, nowMs());
  await boss.send(Q, { id });
  if (MODE === 'closed') await done;
  else { const w = tRun + (id + 1) * GAP - nowMs(); if (w > 0) await sleep(w); }
}
const deadline = nowMs() + 30000;
while (lat.length < SAMPLES && nowMs() < deadline) await sleep(20);
await boss.stop({ graceful: true, timeout: 5000, close: true });
if (lat.length !== SAMPLES) throw new Error(`pg-boss latency: got ${lat.length} samples, expected ${SAMPLES}`);
const s = summarize(lat);
console.log(JSON.stringify({ mode: MODE, samples: SAMPLES, gap_ms: GAP, p50_ms: s.p50, p90_ms: s.p90, p99_ms: s.p99, max_ms: s.max }));
