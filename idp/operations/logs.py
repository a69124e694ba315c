"""JSON log lines: one per request, one per audit event, and every other line of
the provider's loggers in the same shape, each with the request id.

A formatter of a dozen lines rather than a library: the stack has no JSON
logging package, and the fields are few and fixed.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

from . import context

request_log = logging.getLogger("idp.request")
# Fields a call may pass in ``extra`` to appear at the top level of its line.
FIELDS = ("method", "path", "status", "duration_ms", "client_id", "client", "endpoint", "event", "audit")
MAX_PATH = 512


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "pid": record.process,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None) or context.request_id()
        if request_id:
            line["request_id"] = request_id
        line.update({name: getattr(record, name) for name in FIELDS if hasattr(record, name)})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def configure(stream: Any = None) -> None:
    """Send the provider's loggers (``idp.*``), at INFO, as JSON lines to stderr,
    where gunicorn's own error log also goes. Called once per process."""
    logger = logging.getLogger("idp")
    if any(isinstance(h.formatter, JsonFormatter) for h in logger.handlers):
        return
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    # No line names a thread, a process name or a source line, so LogRecord
    # need not look them up (the logging HOWTO's "Optimization"): a tenth of
    # what a request's line costs.
    logging.logThreads = False
    logging.logMultiprocessing = False
    logging._srcfile = None  # type: ignore[attr-defined]


def log_request(
    state: context.RequestState,
    environ: dict[str, Any],
    status: int,
    seconds: float,
    endpoint: str,
    client: str | None,
) -> None:
    """The request's line. The path only: queries carry codes, tickets and hints,
    and no header (cookies, Authorization) is ever written."""
    method = environ.get("REQUEST_METHOD", "")
    path = (environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", ""))[:MAX_PATH]
    request_log.info(
        "%s %s %s",
        method,
        path,
        status,
        extra={
            "request_id": state.request_id,
            "method": method,
            "path": path,
            "status": status,
            "duration_ms": round(seconds * 1000, 2),
            "endpoint": endpoint,
            "client_id": state.client_id,
            "client": client,
        },
    )
