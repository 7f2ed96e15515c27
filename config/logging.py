"""Log records as JSON lines, for log collectors in production (LOG_FORMAT=json).

One object per record and line: time (ISO 8601, UTC), level, logger, message, then what the
record carries about its request (method, path, status, duration_ms, user_id: set by
config.middleware.RequestLogMiddleware, or taken from Django's own `request` attribute on
django.request records), and the exception with its traceback. gunicorn's error log uses
the same formatter (config/gunicorn.conf.py).
"""

import json
import logging
from datetime import UTC, datetime

# The two ways of writing log lines, shared by Django's LOGGING (config/settings.py) and
# gunicorn's own log (config/gunicorn.conf.py).
FORMATTERS = {
    "json": {"()": "config.logging.JsonFormatter"},
    "text": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
}


def console_handler(log_format: str) -> dict:
    """A handler config writing to stdout as `log_format` ("json" or "text") says."""
    return {
        "class": "logging.StreamHandler",
        "stream": "ext://sys.stdout",
        "formatter": "json" if log_format == "json" else "text",
    }


# Extra attributes a record may carry (logger.info(..., extra={...})), in output order.
REQUEST_FIELDS = ("method", "path", "status", "duration_ms", "user_id")


class JsonFormatter(logging.Formatter):
    """Formats a record as one line of JSON; never fails on values JSON doesn't know."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(_request_fields(record))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def _request_fields(record: logging.LogRecord) -> dict:
    """What the record knows about its request: its own extras first, else Django's."""
    fields = {name: getattr(record, name) for name in REQUEST_FIELDS if hasattr(record, name)}
    # django.request and django.security records carry the request and status_code.
    request = getattr(record, "request", None)
    if request is not None and hasattr(request, "method"):
        fields.setdefault("method", request.method)
        fields.setdefault("path", request.path)
    if hasattr(record, "status_code"):
        fields.setdefault("status", record.status_code)
    return fields
