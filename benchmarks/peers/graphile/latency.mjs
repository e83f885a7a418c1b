// graphile-worker pickup latency: handler start minus the moment add_job() was
// issued, producer and workers in one process (one clock). Adapted from the
// reference benchmarks-peers/graphile/latency.mjs (itself after graphile/worker
// perfTest/latencyTest.js). LAT_MODE paced: LAT_SAMPLES single add_job calls,
// one every LAT_GAP_MS, open loop; closed: each waits for the previous handler.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { runMigrations, runTaskList } from 'graphile-worker';
import { dbUrl, env, envInt, nowMs, recreateDb, sleep, summarize, watchdog } from '../lib/stats.mjs';

watchdog('graphile latency');
const here = dirname(fileURLToPath(import.meta.url));
const DB = env('GW_DB', 'gw_lat');
const url = dbUrl(DB);
process.env.GW_DATABASE_URL = url;
const preset = createRequire(import.meta.url)(join(here, 'graphile.config.cjs'));
const MODE = env('LAT_MODE', 'paced');
const SAMPLES = envInt('LAT_SAMPLES', 200);
const GAP = envInt('LAT_GAP_MS', 50);

async function forEmptyQueue(pool) {
  for (;;) {
    await sleep(200);
    const { rows: [r] } = await pool.query('select exists(select 1 from graphile_worker._private_jobs) as e');
    if (!r.e) return;
  }
}

await recreateDb(DB);
await runMigrations({ preset });
const pool = new pg.Pool({ connectionString: url, max: preset.worker.maxPoolSize + 2 });
const start = new Map(); const lat = []; const waiters = new Map();
const workers = runTaskList({ preset }, {
  latency: ({ id }) => {
    const t = nowMs();
    if (id >= 0) lat.push(t - start.get(id));
    const w = waiters.get(id); if (w) w();
  },
}, pool);
// warm-up as latencyTest.js: 100 jobs, wait until they are gone
await pool.query(`select graphile_worker.add_job('latency', json_build_object('id', -i)) from generate_series(1, 100) i`);
await forEmptyQueue(pool);
await sleep(1000);

const client = await pool.connect();
const tRun = nowMs();
try {
  for (let id = 0; id < SAMPLES; id++) {
    const done = new Promise((r) => waiters.set(id, r));
    start.set(id, nowMs());
    await client.query(`select graphile_worker.add_job('latency', json_build_object('id', $1::int))`, [id]);
    if (MODE === 'closed') await done;
    else { const w = tRun + (id + 1) * GAP - nowMs(); if (w > 0) await sleep(w); }
  }
} finally { client.release(); }
await forEmptyQueue(pool);
await workers.gracefulShutdown();
await pool.end();
if (lat.length !== SAMPLES) throw new Error(`graphile latency: got ${lat.length} samples, expected ${SAMPLES}`);
const s = summarize(lat);
console.log(JSON.stringify({ mode: MODE, samples: SAMPLES, gap_ms: GAP, p50_ms: s.p50, p90_ms: s.p90, p99_ms: s.p99, max_ms: s.max }));
