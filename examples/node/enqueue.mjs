// Enqueue leasehold jobs from Node.js, inside the application's own transaction.
//
// Usage: node enqueue.mjs DATABASE_URL     (the `pg` package: npm install pg)
//
// leasehold.enqueue() is an ordinary SQL function: the job commits or rolls
// back with the rest of the transaction, and its commit wakes idle nodes (NOTIFY).
import pg from 'pg';

const db = new pg.Client({ connectionString: process.argv[2] });
await db.connect();
await db.query(`CREATE TABLE IF NOT EXISTS example_orders
                (id bigserial PRIMARY KEY, item text NOT NULL)`);

// The application's write and its job, in one transaction (not yet committed).
async function placeOrder(item) {
  await db.query('BEGIN');
  const order = await db.query(
    'INSERT INTO example_orders (item) VALUES ($1) RETURNING id', [item]);
  const orderId = order.rows[0].id;
  const job = await db.query("SELECT id FROM leasehold.enqueue('send_receipt', $1)",
                             [{ order: Number(orderId), from: 'node' }]);
  return [orderId, job.rows[0].id];
}

// (a) Commit: the order and its job exist together.
let [orderId, jobId] = await placeOrder('lamp (node)');
await db.query('COMMIT');
console.log(`committed: order ${orderId}, job ${jobId}`);

// (b) Roll back: neither the order nor its job exists.
[orderId, jobId] = await placeOrder('rolled back (node)');
await db.query('ROLLBACK');
console.log(`rolled back: order ${orderId}, job ${jobId} never existed`);

// (c) A unique key: the second enqueue creates nothing and returns the holder.
for (let i = 0; i < 2; i++) {
  const { rows: [r] } = await db.query(
    "SELECT id, duplicate FROM leasehold.enqueue('refresh_stock', $1, unique_key => $2)",
    [{ item: 'lamp' }, 'stock-lamp-node']);
  console.log(r.duplicate ? `duplicate of job ${r.id}` : `unique: job ${r.id}`);
}

// (d) Many jobs in one call: a JSON array with enqueue()'s arguments as keys.
const jobs = [1, 2, 3].map((n) => ({ type: 'resize', payload: { image: n, from: 'node' },
                                     priority: n }));
const many = await db.query(
  'SELECT ord, id, duplicate FROM leasehold.enqueue_many($1)', [JSON.stringify(jobs)]);
for (const r of many.rows)
  console.log(`enqueue_many: #${r.ord} job ${r.id} duplicate=${r.duplicate}`);
await db.end();
