#!/usr/bin/env python3
"""Enqueue leasehold jobs from Python, inside the application's own transaction.

Usage: python3 enqueue.py DATABASE_URL     (psycopg2: apt-get install python3-psycopg2)

leasehold.enqueue() is an ordinary SQL function: the job commits or rolls back
with the rest of the transaction, and its commit wakes idle nodes (NOTIFY).
"""
import json
import sys

import psycopg2

conn = psycopg2.connect(sys.argv[1])
cur = conn.cursor()
cur.execute("CREATE TABLE IF NOT EXISTS example_orders"
            " (id bigserial PRIMARY KEY, item text NOT NULL)")
conn.commit()


def place_order(item):
    """The application's write and its job, in one transaction (not yet committed)."""
    cur.execute("INSERT INTO example_orders (item) VALUES (%s) RETURNING id", (item,))
    order_id = cur.fetchone()[0]
    cur.execute("SELECT id FROM leasehold.enqueue('send_receipt', %s)",
                (json.dumps({"order": order_id, "from": "python"}),))
    return order_id, cur.fetchone()[0]


# (a) Commit: the order and its job exist together.
order_id, job_id = place_order("lamp (python)")
conn.commit()
print(f"committed: order {order_id}, job {job_id}")

# (b) Roll back: neither the order nor its job exists.
order_id, job_id = place_order("rolled back (python)")
conn.rollback()
print(f"rolled back: order {order_id}, job {job_id} never existed")

# (c) A unique key: the second enqueue creates nothing and returns the holder.
for _ in range(2):
    cur.execute("SELECT id, duplicate FROM leasehold.enqueue('refresh_stock',"
                " %s, unique_key => %s)",
                (json.dumps({"item": "lamp"}), "stock-lamp-python"))
    job_id, duplicate = cur.fetchone()
    print(f"duplicate of job {job_id}" if duplicate else f"unique: job {job_id}")
conn.commit()

# (d) Many jobs in one call: a JSON array with enqueue()'s arguments as keys.
jobs = [{"type": "resize", "payload": {"image": n, "from": "python"}, "priority": n}
        for n in (1, 2, 3)]
cur.execute("SELECT ord, id, duplicate FROM leasehold.enqueue_many(%s)",
            (json.dumps(jobs),))
for ord_, job_id, duplicate in cur.fetchall():
    print(f"enqueue_many: #{ord_} job {job_id} duplicate={duplicate}")
conn.commit()
conn.close()
