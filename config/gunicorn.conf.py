"""gunicorn settings for production: `gunicorn -c config/gunicorn.conf.py config.wsgi`.

Everything can be overridden from the environment: PORT, WEB_CONCURRENCY (processes),
WEB_THREADS (threads per process), WEB_REQUEST_TIMEOUT (seconds one request may take),
FORWARDED_ALLOW_IPS, LOG_LEVEL, LOG_FORMAT.
"""

import multiprocessing
import os
import sys
import threading
import time
from pathlib import Path

# gunicorn reads this file before it changes into the project: make `config` importable.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from config.logging import FORMATTERS, console_handler  # noqa: E402


def _env(name: str, default: object) -> str:
    """The variable's value; the default when it is unset or empty (compose passes "")."""
    return os.environ.get(name) or str(default)


def _default_workers() -> int:
    """2 x cores + 1, at most 8: each process holds pandas, matplotlib and the app
    (~250 MB, much of it shared through preload_app)."""
    return min(2 * multiprocessing.cpu_count() + 1, 8)


bind = f"0.0.0.0:{_env('PORT', 8000)}"
# Processes do the CPU work (pages, analysis, exports: Python holds one core per process);
# a second thread per process keeps it busy while a request waits for PostgreSQL. More
# threads would add database connections (one per thread), not throughput.
workers = int(_env("WEB_CONCURRENCY", _default_workers()))
worker_class = "gthread"
threads = int(_env("WEB_THREADS", 2))
# Loaded once before forking: workers start fast and share the imported code's memory.
# Django opens no database connection at import, so nothing is shared that must not be.
preload_app = True
# A worker process whose main loop stops answering for this long is restarted. In a
# threaded worker the main loop answers on while a request thread is busy, so this does not
# bound a request: request_timeout below does.
timeout = 60
# The longest a request may take. A thread cannot be stopped from outside, so a request
# running longer ends its worker process, as a sync worker's timeout would (the other
# thread's request ends with it); gunicorn starts a fresh process. Database statements are
# bounded sooner (DB_STATEMENT_TIMEOUT_MS, 30 s). The slowest regular requests, an XLSX
# export of 100,000 customers or a chain report, take well under a minute. 0: no limit.
request_timeout = int(_env("WEB_REQUEST_TIMEOUT", 120))
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then (any slow leak stays bounded), not all at the same time.
max_requests = 1000
max_requests_jitter = 100
# The heartbeat file in memory: on a container's overlay filesystem it can block workers.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
# gunicorn believes X-Forwarded-Proto (for wsgi.url_scheme) only from these addresses.
# Django reads that header itself (SECURE_PROXY_SSL_HEADER): the TLS proxy must set it.
forwarded_allow_ips = _env("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
# No control socket: nothing uses it, and two instances on one host would share its path.
control_socket_disable = True

# Requests are logged by config.middleware.RequestLogMiddleware, once, with the user.
accesslog = None
errorlog = "-"
loglevel = _env("LOG_LEVEL", "INFO").lower()
# The same defaults as config/settings.py: JSON lines unless DEBUG is on.
_debug = _env("DEBUG", "1").strip().lower() in {"1", "true", "yes", "on"}
_json = _env("LOG_FORMAT", "text" if _debug else "json") == "json"
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": FORMATTERS,
    "handlers": {"console": console_handler("json" if _json else "text")},
    "loggers": {
        "gunicorn.error": {"handlers": ["console"], "level": loglevel.upper(), "propagate": False},
        "gunicorn.access": {"handlers": [], "propagate": False},
    },
}


def when_ready(server) -> None:
    """Import every view in the master, once: workers forked from it answer their first
    request at once (instead of after a second or two) and share that memory."""
    from django.apps import apps

    # Only for the Django app (config.wsgi sets it up), not for another WSGI app.
    if server.cfg.preload_app and apps.ready:
        from django.urls import get_resolver

        get_resolver().url_patterns  # noqa: B018 (loading the URLconf imports the views)


# The per-request time limit ---------------------------------------------------------------

# Requests running in this worker process: thread id -> (start, "METHOD /path").
_running: dict[int, tuple[float, str]] = {}


def pre_request(worker, req) -> None:
    _running[threading.get_ident()] = (time.monotonic(), f"{req.method} {req.path}")


def post_request(worker, req, environ, resp) -> None:
    _running.pop(threading.get_ident(), None)


def overdue(running: dict[int, tuple[float, str]], now: float, limit: float) -> list[str]:
    """The requests of `running` that have taken longer than `limit` seconds at `now`."""
    return [what for started, what in list(running.values()) if now - started > limit]


def _watch_requests(worker) -> None:
    while True:
        time.sleep(1)
        late = overdue(_running, time.monotonic(), request_timeout)
        if late:
            worker.log.error(
                "%s took longer than %s s (WEB_REQUEST_TIMEOUT): worker %s stops, a new one starts",
                ", ".join(late),
                request_timeout,
                worker.pid,
            )
            # At once: a normal exit would wait for the stuck thread.
            os._exit(1)


def post_worker_init(worker) -> None:
    """Each worker process watches its own requests (in a thread of its own)."""
    if request_timeout > 0:
        threading.Thread(
            target=_watch_requests, args=(worker,), name="request-timeout", daemon=True
        ).start()
