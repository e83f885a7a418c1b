// graphile-worker throughput, the method of graphile/worker perfTest/run.js
// (adapted from the reference benchmarks-peers/graphile/perf.mjs):
//   fresh DB -> `graphile-worker --schema-only` -> time one `--once` on an empty
//   queue (startup+shutdown) -> JOBS log_if_999 jobs in ONE add_jobs() call
//   (timed: bulk enqueue) -> ANALYZE (as for every system) -> CHECKPOINT ->
//   GW_PARALLELISM `--once` processes together, timed until all exit (queue empty).
// drain jobs/s = JOBS / (exec - startup) (perfTest's formula; jobs_per_s_wall keeps the plain figure).
// Env: JOBS (200000), GW_PARALLELISM (4), GW_* of graphile.config.cjs, PEERS_PG_HOST/PORT.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { dbUrl, env, envInt, nowMs, recreateDb, watchdog } from '../lib/stats.mjs';

watchdog('graphile perf');
const here = dirname(fileURLToPath(import.meta.url));
const CLI = join(dirname(fileURLToPath(import.meta.resolve('graphile-worker'))), 'cli.js');
const JOBS = envInt('JOBS', 200000);
const P = envInt('GW_PARALLELISM', 4);
const DB = env('GW_DB', 'gw_perf');
const url = dbUrl(DB);
const childEnv = { ...process.env, GW_DATABASE_URL: url, NO_LOG_SUCCESS: '1' };

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
const jobs = Array.from({ length: JOBS }, (_, i) => ({ identifier: 'log_if_999', payload: { id: i } }));
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
const execMs = nowMs() - tExec;
const { rows: [{ left }] } = await pool.query('select count(*)::int as left from graphile_worker._private_jobs');
await pool.end();
if (left !== 0) throw new Error(`graphile perf: ${left} jobs left after the drain`);
if (!results.some((r) => r.out.includes('Found 999!'))) throw new Error('graphile perf: job 999 never ran');

console.log(JSON.stringify({
  jobs: JOBS, parallelism: P, concurrency: envInt('GW_CONCURRENCY', 24), local_queue: envInt('GW_LOCAL_QUEUE', 500),
  add_ms: addMs, enqueue_jobs_per_s: JOBS / (addMs / 1000), startup_ms: startup.ms, exec_ms: execMs,
  drain_jobs_per_s: JOBS / ((execMs - startup.ms) / 1000), jobs_per_s_wall: JOBS / (execMs / 1000),
}));
