// pg-boss throughput (adapted from the reference benchmarks-peers/pgboss/perf.mjs):
//   fresh DB -> boss.start() (schema) -> createQueue -> ONE boss.insert() of JOBS jobs
//   (timed: bulk enqueue) -> ANALYZE (as for every system) -> CHECKPOINT ->
//   fork PB_PROCS worker.mjs processes, each starting work() at once -> the clock runs
//   from forking them until the last job is completed: once the workers' handlers have
//   seen JOBS jobs (their counts over IPC), the database is polled every POLL_MS ms until
//   no job of the queue is left in created/retry/active. Then the workers are stopped.
// jobs_per_s_wall = JOBS / that wall time (from starting the workers, like the
// other systems'; the reference timed from a "go" sent to already started workers).
// Default, pg-boss's counterpart of 2 x 24: 2 processes, each work() with batchSize 100,
// localConcurrency 4, burstWhenBatchFull (its best no-op setting in the reference runs:
// up to 400 jobs fetched per process) and at most 24 handlers running at once per
// process (worker.mjs). pg-boss has no per-job concurrency apart from localConcurrency
// at batchSize 1, which waits pollingIntervalSeconds (>= 0.5 s) after every fetch.
// Env: JOBS (100000), PB_PROCS (2), PB_BATCH (100), PB_LOCAL_CONC (4), PB_BURST (1),
//      PB_HANDLER_CONC (24),
//      PB_HANDLER (noop | sleep | exec), PB_SLEEP_MS (1), PB_EXEC_PROGRAM (/bin/true),
//      PB_POLL_S (0.5), PB_POOL_MAX (10), POLL_MS (10), PEERS_PG_HOST/PORT.
import { fork } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { PgBoss } from 'pg-boss';
import { dbUrl, env, envInt, nowMs, recreateDb, sleep, watchdog } from '../lib/stats.mjs';

watchdog('pg-boss perf');
const here = dirname(fileURLToPath(import.meta.url));
const JOBS = envInt('JOBS', 100000);
const PROCS = envInt('PB_PROCS', 2);
const HANDLER = env('PB_HANDLER', 'noop');
const POLL_MS = envInt('POLL_MS', 10);
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
const t0 = nowMs();
for (let k = 0; k < PROCS; k++) {
  const c = fork(join(here, 'worker.mjs'), [], { env: { ...process.env, PB_URL: url, PB_QUEUE: QUEUE } });
  c.on('message', (m) => { if (m.handled !== undefined) handled[k] = m.handled; });
  c.on('exit', (code) => { console.error(`pg-boss perf: worker exited ${code} before the drain ended`); process.exit(1); });
  children.push(c);
}
while (handled.reduce((a, b) => a + b, 0) < JOBS) await sleep(20);
while (await count(`state < 'completed'`) > 0) await sleep(POLL_MS);
const wallMs = nowMs() - t0;
const completed = await count(`state = 'completed'`);
await Promise.all(children.map((c) => new Promise((r) => { c.removeAllListeners('exit'); c.on('exit', r); c.send({ stop: true }); })));
await pool.end();
await boss.stop({ graceful: false, close: true });
if (completed !== JOBS) throw new Error(`pg-boss perf: ${completed} completed, expected ${JOBS}`);

console.log(JSON.stringify({
  jobs: JOBS, procs: PROCS, batch: envInt('PB_BATCH', 100), local_conc: envInt('PB_LOCAL_CONC', 4),
  handler_conc: envInt('PB_HANDLER_CONC', 24),
  burst: envInt('PB_BURST', 1) === 1, handler: HANDLER,
  ...(HANDLER === 'sleep' ? { sleep_ms: envInt('PB_SLEEP_MS', 1) } : {}),
  ...(HANDLER === 'exec' ? { program: env('PB_EXEC_PROGRAM', '/bin/true') } : {}),
  add_ms: addMs, enqueue_jobs_per_s: JOBS / (addMs / 1000), wall_ms: wallMs, jobs_per_s_wall: JOBS / (wallMs / 1000),
}));
