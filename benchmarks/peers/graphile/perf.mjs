// graphile-worker throughput, the method of graphile/worker perfTest/run.js
// (adapted from the reference benchmarks-peers/graphile/perf.mjs):
//   fresh DB -> `graphile-worker --schema-only` -> time one `--once` on an empty
//   queue (startup+shutdown) -> JOBS jobs in ONE add_jobs() call (timed: bulk
//   enqueue) -> ANALYZE (as for every system) -> CHECKPOINT -> GW_PARALLELISM
//   `--once` processes started together, timed until all have exited (each exits
//   when it finds the queue empty).
// jobs_per_s_wall = JOBS / that wall time: from starting the processes to the
// last completion, the headline figure; jobs_per_s_minus_startup = JOBS / (wall -
// startup), perfTest's own printed formula.
// GW_TASK: noop (perfTest's log_if_999), sleep (sleep_ms: setTimeout GW_SLEEP_MS
// ms), exec (exec_program: spawns GW_EXEC_PROGRAM per job).
// Env: JOBS (100000), GW_PARALLELISM (2), GW_TASK (noop), GW_SLEEP_MS (1),
// GW_* of graphile.config.cjs, PEERS_PG_HOST/PORT.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { dbUrl, env, envInt, nowMs, recreateDb, watchdog } from '../lib/stats.mjs';

watchdog('graphile perf');
const here = dirname(fileURLToPath(import.meta.url));
const CLI = join(dirname(fileURLToPath(import.meta.resolve('graphile-worker'))), 'cli.js');
const JOBS = envInt('JOBS', 100000);
const P = envInt('GW_PARALLELISM', 2);
const TASK = env('GW_TASK', 'noop');
const SLEEP_MS = envInt('GW_SLEEP_MS', 1);
const DB = env('GW_DB', 'gw_perf');
const url = dbUrl(DB);
const childEnv = { ...process.env, GW_DATABASE_URL: url, NO_LOG_SUCCESS: '1' };
const tasks = {
  noop: { identifier: 'log_if_999', payload: (i) => ({ id: i }) },
  sleep: { identifier: 'sleep_ms', payload: (i) => ({ id: i, ms: SLEEP_MS }) },
  exec: { identifier: 'exec_program', payload: (i) => ({ id: i }) },
};
if (!tasks[TASK]) throw new Error(`graphile perf: GW_TASK must be one of ${Object.keys(tasks)}, not ${TASK}`);

function runCli(args) {
  return new Promise((resolve, reject) => {
    const t0 = nowMs();
    const p = spawn(process.execPath, [CLI, ...args], { cwd: here, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { out += d; });
    p.on('error', reject);
    p.on('exit', (code) => {
      if (code !== 0) reject(new Error(`graphile-worker ${args.join(' ')} exited ${code}: ${out.slice(-500)}`));
      else resolve({ ms: nowMs() - t0, out });
    });
  });
}

await recreateDb(DB);
await runCli(['--schema-only']);
const startup = await runCli(['--once']);

const pool = new pg.Pool({ connectionString: url, max: 2 });
const { identifier, payload } = tasks[TASK];
const jobs = Array.from({ length: JOBS }, (_, i) => ({ identifier, payload: payload(i) }));
const tAdd = nowMs();
await pool.query(
  'select 1 from graphile_worker.add_jobs(array(select json_populate_recordset(null::graphile_worker.job_spec, $1::json)))',
  [JSON.stringify(jobs)],
);
const addMs = nowMs() - tAdd;
await pool.query('analyze');
await pool.query('checkpoint');

const tExec = nowMs();
const results = await Promise.all(Array.from({ length: P }, () => runCli(['--once'])));
const wallMs = nowMs() - tExec;
const { rows: [{ left }] } = await pool.query('select count(*)::int as left from graphile_worker._private_jobs');
await pool.end();
if (left !== 0) throw new Error(`graphile perf: ${left} jobs left after the drain`);
if (JOBS > 999 && !results.some((r) => r.out.includes('Found 999!'))) throw new Error('graphile perf: job 999 never ran');

console.log(JSON.stringify({
  jobs: JOBS, parallelism: P, concurrency: envInt('GW_CONCURRENCY', 24), local_queue: envInt('GW_LOCAL_QUEUE', 500),
  handler: TASK, ...(TASK === 'sleep' ? { sleep_ms: SLEEP_MS } : {}),
  ...(TASK === 'exec' ? { program: env('GW_EXEC_PROGRAM', '/bin/true') } : {}),
  add_ms: addMs, enqueue_jobs_per_s: JOBS / (addMs / 1000), startup_ms: startup.ms, wall_ms: wallMs,
  jobs_per_s_wall: JOBS / (wallMs / 1000), jobs_per_s_minus_startup: JOBS / ((wallMs - startup.ms) / 1000),
}));
