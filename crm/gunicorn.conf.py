"""gunicorn settings for production: `gunicorn -c crm/gunicorn.conf.py crm.wsgi`.

A page is CPU-bound Python (30-60 ms) with a few short database waits, so the machine's cores set the
throughput: one process per core plus one (a process takes a core while another waits on PostgreSQL),
and a few threads each (gthread) to overlap those waits and keep browsers' keep-alive connections
without holding a worker. More processes add memory (about 90 MB each), not throughput: on 2 cores,
5 workers of 2 threads and 3 of 4 used the same CPU per request and served the same rate within the
noise (http.mixed, December 2026). GUNICORN_WORKERS and GUNICORN_THREADS override both for a machine that differs."""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
worker_class = "gthread"
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() + 1))
threads = int(os.environ.get("GUNICORN_THREADS", 4))
# Idle keep-alive connections are held by the worker's poller, not by a thread.
keepalive = 5
timeout = 60
graceful_timeout = 30
max_requests = 2000
max_requests_jitter = 200
accesslog = "-"
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
