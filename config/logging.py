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
