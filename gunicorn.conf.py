"""gunicorn's settings for Linkwork. gunicorn reads this file when started from the project folder, so the image
(Dockerfile, docker-compose.yml) and the benchmark (``make bench``) serve with the same settings: the benchmark
measures what is deployed. Command-line options override it (``--bind``, ``--workers``)."""

import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")

# Sync workers: one request at a time per process, no threads. Each request is CPU work in Python plus short
# waits on PostgreSQL; threads in one process take turns on the GIL, and a thread back from the database waits
# up to a switch interval (5 ms) for it, on every query. Measured on `make bench`'s pages and data, 2-core
# development machine, 8 users (docs/scaling.md): the caseload's p95 was 227-232 ms with 4 gthread workers × 2
# threads and 135-147 ms with 4 sync workers; 3 and 4 sync workers did equally well, 5 and 8 worse
# (218-259 and 347-520 ms), as processes and PostgreSQL fought for the two cores.
worker_class = "sync"


def _workers() -> int:
    """WEB_CONCURRENCY if set (the variable gunicorn and platforms use), else two per CPU this process may use."""
    configured = os.environ.get("WEB_CONCURRENCY", "").strip()
    if configured:
        return max(1, int(configured))
    return 2 * len(os.sched_getaffinity(0))


workers = _workers()
# A year's report as XLSX for a whole ICB takes about 3 s (make bench): a request still running after a minute is
# stuck, and its worker is restarted.
timeout = 60
# A sync worker is held for as long as its client takes to send the request and read the answer, so it must sit
# behind a proxy that buffers both (deploy/Caddyfile does): a slow phone connection then holds the proxy, not one
# of a handful of workers.

# Garbage collection. A worker holds some 165,000 objects once Django, the URL configuration and the templates are
# loaded, nearly all of them kept for its life; every full collection walked them all, 100 ms at a time, about
# once every 60 requests (make bench, triage queue, counted with gc.callbacks): that pause fell on whichever
# request was running, at p95 and p99. gc.freeze() moves the objects alive now out of the collector's sight
# (they are still freed if released; they are only not scanned), so a collection looks at a request's own
# objects. Frozen once when the worker has loaded the app, and again after its first requests, which load the
# URL configuration, templates and caches lazily.
FREEZE_AFTER_REQUESTS = 25


def _freeze() -> None:
    import gc

    gc.collect()
    gc.freeze()


def post_worker_init(worker) -> None:  # noqa: ANN001 - gunicorn's hook signature
    _freeze()


def post_request(worker, req, environ, resp) -> None:  # noqa: ANN001 - gunicorn's hook signature
    if worker.nr == FREEZE_AFTER_REQUESTS:
        _freeze()
