// graphile-worker preset for perf.mjs / latency.mjs (copied from the reference benchmarks-peers),
// mirroring graphile/worker perfTest/graphile.config.js (concurrentJobs 24, maxPoolSize 25, localQueue {size 500, refetchDelay 10ms}, completeJobBatchDelay 0,
// failJobBatchDelay 0). Environment overrides:
//   GW_CONCURRENCY (24), GW_LOCAL_QUEUE (500; -1 disables), GW_BATCH_DELAY (0; -1 disables),
//   GW_REFETCH_DELAY_MS (10; -1 = leave unset)
const c = parseInt(process.env.GW_CONCURRENCY || '24', 10);
const lq = parseInt(process.env.GW_LOCAL_QUEUE || '500', 10);
const bd = parseInt(process.env.GW_BATCH_DELAY || '0', 10);
const rd = parseInt(process.env.GW_REFETCH_DELAY_MS || '10', 10);
const localQueue = lq < 0 ? { size: -1 } : { size: lq, ...(rd >= 0 ? { refetchDelay: { durationMs: rd } } : {}) };
module.exports = {
  worker: {
    connectionString: process.env.GW_DATABASE_URL || process.env.DATABASE_URL,
    fileExtensions: ['.js', '.cjs', '.mjs'],
    gracefulShutdownAbortTimeout: 2500,
    concurrentJobs: c,
    maxPoolSize: c + 1,
    localQueue,
    completeJobBatchDelay: bd,
    failJobBatchDelay: bd,
  },
};
