// leasehold pickup latency as users run it: one `leasehold node --concurrency 24`
// process started from the CLI, and this process as a separate client that
// enqueues single jobs with leasehold's own single-job INSERT
// (persistence/sql/job_insert.sql, parameters bound, on one open connection,
// so the statement's trigger wakes the node through LISTEN/NOTIFY as any
// enqueue does). Timed as graphile/latency.mjs and pgboss/latency.mjs time
// their peers: pickup = handler start minus the moment just before the
// enqueue call, on one clock (process.hrtime). The handler start is the
// node's "job started" log line (debug level), written by the executor just
// before it calls the handler (the built-in `noop`); this process reads the
// node's stderr through a pipe and stamps each line as it arrives, so the
// figure includes the pipe and this event loop (it can only overstate the
// pickup). The line's own millisecond timestamp gives a cross-check
// (`log_ts_p50_ms`, wall clock, truncated to the millisecond).
// LAT_MODE paced: LAT_SAMPLES single enqueues, one every LAT_GAP_MS, open
// loop; closed: each waits for the previous job's start.
// Env: LH_BIN, LH_INSERT_SQL (job_insert.sql), LH_DB (lh_lat), LH_NODE_ARGS
// (more `node` flags), LH_LOG (the node's log file), LAT_MODE, LAT_SAMPLES
// (200), LAT_GAP_MS (50), PEERS_PG_HOST/PORT.
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import pg from 'pg';
import { dbUrl, env, envInt, nowMs, recreateDb, sleep, summarize, watchdog } from '../lib/stats.mjs';

watchdog('leasehold latency');
const BIN = env('LH_BIN', 'build/leasehold');
const DB = env('LH_DB', 'lh_lat');
const url = dbUrl(DB);
const MODE = env('LAT_MODE', 'paced');
const SAMPLES = envInt('LAT_SAMPLES', 200);
const GAP = envInt('LAT_GAP_MS', 50);
const insertSql = readFileSync(env('LH_INSERT_SQL', 'persistence/sql/job_insert.sql'), 'utf8');
// The handler start is read from the debug log, so a --log-level among the extra flags gives way.
const extra = env('LH_NODE_ARGS', '').split(/\s+/).filter(Boolean)
  .filter((a, i, all) => !a.startsWith('--log-level') && all[i - 1] !== '--log-level');

await recreateDb(DB);
const mig = spawnSync(BIN, ['--database-url', url, 'migrate'], { encoding: 'utf8' });
if (mig.status !== 0) throw new Error(`leasehold migrate failed: ${mig.stderr}`);

const args = ['--database-url', url, 'node', '--concurrency', '24'];
if (!extra.includes('--http-listen')) args.push('--http-listen', 'off');
args.push(...extra, '--log-level', 'debug');
const node = spawn(BIN, args, { stdio: ['ignore', 'ignore', 'pipe'] });
const log = createWriteStream(env('LH_LOG', '/dev/null'));
let exited = null;
const exitP = new Promise((r) => node.on('exit', (code, sig) => { exited = { code, sig }; r(); }));

const seen = new Map(); // job id -> { t: hrtime ms at arrival, ts: the line's own wall clock ms }
const waiters = new Map();
createInterface({ input: node.stderr }).on('line', (line) => {
  const t = nowMs();
  log.write(line + '\n');
  if (!line.includes('"job started"')) return;
  const m = JSON.parse(line);
  seen.set(m.job_id, { t, ts: Date.parse(m.ts) });
  const w = waiters.get(m.job_id); if (w) { waiters.delete(m.job_id); w(); }
});

const client = new pg.Client({ connectionString: url });
await client.connect();
const enqueue = async (id) => {
  const { rows: [r] } = await client.query({
    name: 'lh_job_insert', text: insertSql,
    values: ['noop', JSON.stringify({ id }), null, null, null, null, null],
  });
  return Number(r.id);
};
const started = (jobId) => new Promise((r) => { if (seen.has(jobId)) r(); else waiters.set(jobId, r); });
const within = (p, ms, what) => Promise.race([p, sleep(ms).then(() => {
  throw new Error(`leasehold latency: ${what} not seen within ${ms} ms (node ${exited ? JSON.stringify(exited) : 'running'})`);
})]);

for (let i = 1; i <= 20; i++) { // warm-up: 20 jobs, one at a time (the first waits for the node's start)
  const jobId = await enqueue(-i);
  await within(started(jobId), 30000, `warm-up job ${jobId}`);
}
await sleep(1000);

const calls = []; // { t0, t1, jobId }
const tRun = nowMs();
for (let id = 0; id < SAMPLES; id++) {
  const t0 = nowMs(), tw = performance.timeOrigin + performance.now(); // tw: wall clock, for the cross-check
  const jobId = await enqueue(id);
  calls.push({ t0, tw, t1: nowMs(), jobId });
  if (MODE === 'closed') await within(started(jobId), 30000, `job ${jobId}`);
  else { const w = tRun + (id + 1) * GAP - nowMs(); if (w > 0) await sleep(w); }
}
await within(Promise.all(calls.map((c) => started(c.jobId))), 30000, 'every sample');
await client.end();
node.kill('SIGTERM');
await within(exitP, 60000, 'the node\'s exit');
log.end();
if (exited.code !== 0) throw new Error(`leasehold latency: the node exited ${JSON.stringify(exited)}`);

const lat = calls.map((c) => seen.get(c.jobId).t - c.t0);
const s = summarize(lat);
const call = summarize(calls.map((c) => c.t1 - c.t0));
const after = summarize(calls.map((c) => seen.get(c.jobId).t - c.t1));
const byTs = summarize(calls.map((c) => seen.get(c.jobId).ts - c.tw));
console.log(JSON.stringify({
  mode: MODE, samples: SAMPLES, gap_ms: GAP, p50_ms: s.p50, p90_ms: s.p90, p99_ms: s.p99, max_ms: s.max,
  enqueue_call_p50_ms: call.p50, after_enqueue_p50_ms: after.p50, after_enqueue_p99_ms: after.p99,
  log_ts_p50_ms: byTs.p50, log_ts_p99_ms: byTs.p99,
}));
