"""Keeping patient data out of the logs: a filter on the handler every log line goes through.

No code of the site puts a name or CPR number into a log message. Some arrives by the way:
a URL with a search in it (the development server logs ``GET /referrals/?q=<CPR> ...`` for
each 4xx), a CPR number in a URL's path, and a database error in a traceback, whose DETAIL
line quotes the values: ``Key (cpr)=(...) already exists``, or the whole failing row with
name, address and CPR number. The filter drops query strings, masks CPR numbers and keeps
only the first line of each exception's message, and writes the result into the record, so
no handler after it can format the original.
"""

import logging
import re
import traceback

# Ten digits, with or without the dash (or its URL encoding), not inside a longer number.
CPR_NUMBER = re.compile(r"(?<!\d)\d{6}(?:-|%2[dD])?\d{4}(?!\d)")
QUERY_STRING = re.compile(r"(/[^\s?\"']*)\?[^\s\"']*")
TRACEBACK_HEADER = "Traceback (most recent call last):\n"


def redact(text: str) -> str:
    """``text`` with query strings dropped and CPR numbers masked."""
    return CPR_NUMBER.sub("[CPR]", QUERY_STRING.sub(r"\1?[query]", text))


def exception_text(exc_info) -> str:
    """The traceback with each exception's message cut to its first line, then redacted.

    The frames (files, lines, source) are code and stay whole; the message's later lines are
    where PostgreSQL's DETAIL quotes data.
    """
    chunks = []
    for chunk in traceback.TracebackException(*exc_info).format():
        # Frames are indented; the chained-exception notes start with a newline.
        if chunk.startswith(("  ", "\n", TRACEBACK_HEADER)):
            chunks.append(chunk)
        else:
            chunks.append(chunk.split("\n", 1)[0] + "\n")
    return redact("".join(chunks)).rstrip("\n")


class RedactPatientData(logging.Filter):
    """Redact a record's message, arguments, traceback and stack before it is written."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not break the request that logs it
            message = str(record.msg)
        record.msg, record.args = redact(message), None
        if record.exc_info and record.exc_info[0] is not None:
            record.exc_text = exception_text(record.exc_info)
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        record.exc_info = None
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True
