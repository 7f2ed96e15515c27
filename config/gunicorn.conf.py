"""gunicorn settings for production: `gunicorn -c config/gunicorn.conf.py config.wsgi`.

Everything can be overridden from the environment: PORT, WEB_CONCURRENCY (processes),
WEB_THREADS (threads per process), FORWARDED_ALLOW_IPS, LOG_LEVEL, LOG_FORMAT.
"""

import multiprocessing
import os
import sys
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
# An XLSX export of 100,000 customers takes seconds; anything beyond a minute is stuck.
timeout = 60
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
    if server.cfg.preload_app:
        from django.urls import get_resolver

        get_resolver().url_patterns  # noqa: B018 (loading the URLconf imports the views)
