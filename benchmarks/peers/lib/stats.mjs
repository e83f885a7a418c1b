// Helpers shared by the Node.js drivers (adapted from the reference
// benchmarks-peers/lib/stats.mjs: results go to stdout as one JSON line,
// the shell collects them, so there is no CSV writer here).
import pg from 'pg';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const nowMs = () => Number(process.hrtime.bigint()) / 1e6;

export function env(name, dflt) {
  const v = process.env[name];
  return v === undefined || v === '' ? dflt : v;
}
export function envInt(name, dflt) { return parseInt(env(name, String(dflt)), 10); }

// Nearest-rank percentile, as the reference (and leasehold-bench) report them.
export function percentile(sorted, p) {
  if (!sorted.length) return NaN;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx];
}
export function summarize(values) {
  const s = [...values].sort((a, b) => a - b);
  return {
    n: s.length, min: s[0], p50: percentile(s, 50), p90: percentile(s, 90),
    p99: percentile(s, 99), max: s[s.length - 1], avg: s.reduce((a, b) => a + b, 0) / s.length,
  };
}

// The private cluster of scripts/bench-peers.sh: TCP on 127.0.0.1, trust auth.
export const pgHost = env('PEERS_PG_HOST', '127.0.0.1');
export const pgPort = envInt('PEERS_PG_PORT', 55435);
export const dbUrl = (db) => `postgres://postgres@${pgHost}:${pgPort}/${db}`;

// Every driver starts from a database of its own, freshly created.
export async function recreateDb(db) {
  const admin = new pg.Client({ host: pgHost, port: pgPort, user: 'postgres', database: 'postgres' });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${db}`);
  await admin.end();
}

// Exit loudly, in one line, if a driver hangs (the shell also has a timeout).
export function watchdog(name) {
  const s = envInt('DRIVER_TIMEOUT_S', 900);
  setTimeout(() => { console.error(`${name}: gave up after ${s} s`); process.exit(3); }, s * 1000).unref();
}
