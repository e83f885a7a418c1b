// Child of pgboss/perf.mjs: one PgBoss instance, work() with a no-op handler
// (from the reference benchmarks-peers/pgboss/worker.mjs). Reports its count
// over IPC; prints nothing on stdout (the parent's stdout carries the result).
import { PgBoss } from 'pg-boss';
import { env, envInt } from '../lib/stats.mjs';

const boss = new PgBoss({ connectionString: process.env.PB_URL, max: envInt('PB_POOL_MAX', 10), migrate: false });
boss.on('error', (e) => console.error('pg-boss worker error', e.message));
await boss.start();
let handled = 0; let lastSent = -1;
const timer = setInterval(() => { if (handled !== lastSent) { lastSent = handled; process.send({ handled }); } }, 20);
process.on('disconnect', () => process.exit(1)); // parent gone: do not linger
process.on('message', async (m) => {
  if (m.go) {
    await boss.work(process.env.PB_QUEUE, {
      batchSize: envInt('PB_BATCH', 100), localConcurrency: envInt('PB_LOCAL_CONC', 4),
      pollingIntervalSeconds: Number(env('PB_POLL_S', '0.5')),
      ...(envInt('PB_BURST', 1) === 1 ? { burstWhenBatchFull: true } : {}),
    }, async (jobs) => { handled += jobs.length; });
  }
  if (m.stop) {
    clearInterval(timer);
    await boss.stop({ graceful: true, timeout: 5000, close: true });
    process.exit(0);
  }
});
process.send({ ready: true });
