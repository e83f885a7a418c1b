// pg-boss throughput (adapted from the reference benchmarks-peers/pgboss/perf.mjs):
//   fresh DB -> boss.start() (schema) -> createQueue -> ONE boss.insert() of JOBS jobs
//   (timed: bulk enqueue) -> ANALYZE (as for every system) -> CHECKPOINT ->
//   fork PB_PROCS worker.mjs processes (work() with batch fetching) -> clock from
//   "go" until the database shows no job of the queue in created/retry/active.
// Env: JOBS (200000), PB_PROCS (2), PB_BATCH (100), PB_LOCAL_CONC (4), PB_BURST (1),
//      PB_POLL_S (0.5), PB_POOL_MAX (10), PEERS_PG_HOST/PORT.
import { fork } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { PgBoss } from 'pg-boss';
import { dbUrl, env, envInt, nowMs, recreateDb, sleep, watchdog } from '../lib/stats.mjs';

watchdog('pg-boss perf');
const here = dirname(fileURLToPath(import.meta.url));
const JOBS = envInt('JOBS', 200000);
const PROCS = envInt('PB_PROCS', 2);
const DB = env('PB_DB', 'pb_perf');
const url = dbUrl(DB);
const QUEUE = 'perf';

await recreateDb(DB);
const boss = new PgBoss({ connectionString: url });
boss.on('error', (e) => console.error('boss error', e.message));
await boss.start();
await boss.createQueue(QUEUE);

const jobs = Array.from({ length: JOBS }, (_, i) => ({ data: { id: i } }));
const tAdd = nowMs();
await boss.insert(QUEUE, jobs);
const addMs = nowMs() - tAdd;
const pool = new pg.Pool({ connectionString: url, max: 1 });
const count = async (where) => (await pool.query(
  `select count(*)::int n from pgboss.job where name = $1 and ${where}`, [QUEUE])).rows[0].n;
const inserted = await count('true');
if (inserted !== JOBS) throw new Error(`pg-boss perf: inserted ${inserted}, expected ${JOBS}`);
await pool.query('analyze');
await pool.query('checkpoint');

const children = []; const handled = new Array(PROCS).fill(0);
await Promise.all(Array.from({ length: PROCS }, (_, k) => new Promise((resolve, reject) => {
  const c = fork(join(here, 'worker.mjs'), [], { env: { ...process.env, PB_URL: url, PB_QUEUE: QUEUE } });
  c.on('message', (m) => { if (m.ready) resolve(); if (m.handled !== undefined) handled[k] = m.handled; });
  c.on('exit', (code) => { if (code) { console.error(`pg-boss perf: worker exited ${code}`); process.exit(1); } });
  children.push(c);
})));
const t0 = nowMs();
for (const c of children) c.send({ go: true });
while (handled.reduce((a, b) => a + b, 0) < JOBS) await sleep(20);
while (await count(`state < 'completed'`) > 0) await sleep(10);
const execMs = nowMs() - t0;
const completed = await count(`state = 'completed'`);
await Promise.all(children.map((c) => new Promise((r) => { c.removeAllListeners('exit'); c.on('exit', r); c.send({ stop: true }); })));
await pool.end();
await boss.stop({ graceful: false, close: true });
if (completed !== JOBS) throw new Error(`pg-boss perf: ${completed} completed, expected ${JOBS}`);

console.log(JSON.stringify({
  jobs: JOBS, procs: PROCS, batch: envInt('PB_BATCH', 100), local_conc: envInt('PB_LOCAL_CONC', 4),
  add_ms: addMs, enqueue_jobs_per_s: JOBS / (addMs / 1000), exec_ms: execMs, drain_jobs_per_s: JOBS / (execMs / 1000),
}));
