// Child of pgboss/perf.mjs: one PgBoss instance that starts working at once:
// work() with batch fetching (localConcurrency workers, each fetching batchSize
// jobs); every job of every batch runs through one limit of PB_HANDLER_CONC
// (24) concurrent handlers per process, the counterpart of graphile-worker's
// concurrentJobs 24 over its localQueue of 500 fetched jobs.
// PB_HANDLER: noop, sleep (setTimeout PB_SLEEP_MS ms per job), exec (spawns
// PB_EXEC_PROGRAM per job, payload on stdin). Reports its count over IPC;
// prints nothing on stdout (the parent's stdout carries the result).
// (Adapted from the reference benchmarks-peers/pgboss/worker.mjs.)
import { spawn } from 'node:child_process';
import { PgBoss } from 'pg-boss';
import { env, envInt, sleep } from '../lib/stats.mjs';

const HANDLER = env('PB_HANDLER', 'noop');
const SLEEP_MS = envInt('PB_SLEEP_MS', 1);
const PROGRAM = env('PB_EXEC_PROGRAM', '/bin/true');
const exec = (data) => new Promise((resolve, reject) => {
  const child = spawn(PROGRAM, [], { stdio: ['pipe', 'pipe', 'pipe'] });
  let err = '';
  child.stdout.resume();
  child.stderr.on('data', (d) => { err = (err + d).slice(-2048); });
  child.stdin.on('error', () => {}); // the program may exit before reading its stdin
  child.stdin.end(JSON.stringify(data));
  child.on('error', reject);
  child.on('close', (code, signal) => {
    if (code === 0) resolve();
    else reject(new Error(`${PROGRAM}: ${signal ? `killed by ${signal}` : `exit status ${code}`} ${err}`));
  });
});
const handlers = {
  noop: async () => {},
  sleep: () => sleep(SLEEP_MS),
  exec: (job) => exec(job.data),
};
if (!handlers[HANDLER]) throw new Error(`pg-boss worker: PB_HANDLER must be one of ${Object.keys(handlers)}, not ${HANDLER}`);
// At most PB_HANDLER_CONC handlers at once in this process, the rest wait in line.
const LIMIT = envInt('PB_HANDLER_CONC', 24);
let running = 0; const waiting = [];
async function one(job) {
  if (running >= LIMIT) await new Promise((r) => waiting.push(r));
  else running++;
  try { await handlers[HANDLER](job); } finally {
    const next = waiting.shift();
    if (next) next(); else running--;
  }
}

const boss = new PgBoss({ connectionString: process.env.PB_URL, max: envInt('PB_POOL_MAX', 10), migrate: false });
boss.on('error', (e) => console.error('pg-boss worker error', e.message));
let handled = 0; let lastSent = -1;
const timer = setInterval(() => { if (handled !== lastSent) { lastSent = handled; process.send({ handled }); } }, 20);
process.on('disconnect', () => process.exit(1)); // parent gone: do not linger
process.on('message', async (m) => {
  if (m.stop) {
    clearInterval(timer);
    await boss.stop({ graceful: true, timeout: 5000, close: true });
    process.exit(0);
  }
});
await boss.start();
await boss.work(process.env.PB_QUEUE, {
  batchSize: envInt('PB_BATCH', 100), localConcurrency: envInt('PB_LOCAL_CONC', 4),
  pollingIntervalSeconds: Number(env('PB_POLL_S', '0.5')),
  ...(envInt('PB_BURST', 1) === 1 ? { burstWhenBatchFull: true } : {}),
}, async (jobs) => {
  await Promise.all(jobs.map(one));
  handled += jobs.length;
});
