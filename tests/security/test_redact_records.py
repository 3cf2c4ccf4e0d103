"""The redaction never makes logging fail (issue 17, point 4).

Once a secret is registered, our log record factory runs for every record of the process.
``logging.makeLogRecord({})`` (log forwarders, JSON formatters and queue handlers call it)
used to raise ``AttributeError`` in every library. Records of every shape -- no message,
``None``, a message that is not a string or whose ``str()`` fails, arguments as a dict, a
tuple or ``None``, a broken format string, ``exc_info``, ``stack_info``, records made by
hand, records of other libraries, a ``QueueHandler`` round trip, a socket-style rebuild
with ``makeLogRecord(record.__dict__)`` and a JSON formatter -- go through, and the secret
is still masked wherever the record can be read.
"""

from __future__ import annotations

import io
import json
import logging
import logging.handlers
import queue
from collections.abc import Iterator
from typing import Any

import pytest

from ssooidc_jupyter._redact import REDACTED, RedactingFilter, register_secret

SECRET = "aoa-SECRET-for-record-shapes-0123456789"


class Unprintable:
    def __str__(self) -> str:
        raise RuntimeError("no str")


@pytest.fixture(autouse=True)
def registered() -> None:
    register_secret(SECRET)  # installs the factory, as the first token loaded does


class Captured:
    """A handler of our own on the test's loggers, which do not propagate: pytest's own
    capture handler re-raises logging errors, logging's handlers report them on stderr."""

    def __init__(self) -> None:
        self.stream = io.StringIO()
        self.handler = logging.StreamHandler(self.stream)
        self.handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.loggers: list[logging.Logger] = []

    def logger(self, name: str) -> logging.Logger:
        logger = logging.getLogger(name)
        logger.addHandler(self.handler)
        logger.setLevel(logging.DEBUG)
        logger.propagate = False
        self.loggers.append(logger)
        return logger

    def getvalue(self) -> str:
        return self.stream.getvalue()


@pytest.fixture
def captured() -> Iterator[Captured]:
    capture = Captured()
    try:
        yield capture
    finally:
        for logger in capture.loggers:
            logger.removeHandler(capture.handler)
            logger.propagate = True
            logger.setLevel(logging.NOTSET)


def test_make_log_record_of_nothing_works() -> None:
    record = logging.makeLogRecord({})
    assert record.getMessage() == ""
    # And with the usual members a forwarder gives it.
    forwarded = logging.makeLogRecord(
        {"name": "ssooidc_jupyter.x", "msg": f"token {SECRET}", "levelno": 20}
    )
    assert forwarded.name == "ssooidc_jupyter.x"


def test_the_factory_survives_any_positional_shape() -> None:
    factory = logging.getLogRecordFactory()
    for name in (None, 42, "", "ssooidc_jupyter", "ssooidc_jupyter.client", "otherlib"):
        record = factory(name, logging.INFO, "", 0, "msg", (), None)
        assert record.levelno == logging.INFO


SHAPES: list[Any] = [
    pytest.param(None, None, id="msg None"),
    pytest.param(12345, None, id="int msg"),
    pytest.param({"accessToken": SECRET}, None, id="dict msg"),
    pytest.param([SECRET], None, id="list msg"),
    pytest.param(Unprintable(), None, id="msg whose str() raises"),
    pytest.param("token %(t)s", {"t": SECRET}, id="args dict"),
    pytest.param("token %s and %d", (SECRET, 3), id="args tuple"),
    pytest.param("token %s", (SECRET,), id="args one-tuple"),
    pytest.param("token %s %s", (SECRET,), id="broken format string"),
    pytest.param(f"token {SECRET}", None, id="args None"),
]


@pytest.mark.parametrize("name", ["ssooidc_jupyter.test", "otherlib.test"])
@pytest.mark.parametrize(("msg", "args"), SHAPES)
def test_records_of_every_shape_never_fail(
    name: str, msg: Any, args: Any, captured: Captured, capsys: pytest.CaptureFixture[str]
) -> None:
    logger = captured.logger(name)
    if args is None:
        logger.info(msg)
    elif isinstance(args, dict):
        logger.info(msg, args)
    else:
        logger.info(msg, *args)
    output = captured.getvalue()
    if name.startswith("ssooidc_jupyter"):
        assert SECRET not in output
    # By hand too, as a forwarder builds them, through the logger's filters and handlers.
    # (Made by makeLogRecord, such a record was masked where it was first made, or is by a
    # RedactingFilter on the handler: see test_the_filter_on_a_handler_takes_every_shape.)
    logger.handle(logging.makeLogRecord({"name": name, "msg": msg, "args": args, "levelno": 20}))
    # A record that cannot be formatted is reported by the handler on stderr (logging's
    # own rule), never raised into the caller.
    errors = capsys.readouterr().err
    assert not errors or "--- Logging error ---" in errors


def test_exc_info_and_stack_info_are_masked_and_never_fail(captured: Captured) -> None:
    logger = captured.logger("ssooidc_jupyter.test")
    try:
        raise ValueError(f"refused {SECRET}")
    except ValueError:
        logger.exception("failed")
        logger.error("failed again", exc_info=True, stack_info=True)
    logger.info("no exception now", exc_info=True)  # (None, None, None)
    logger.handle(
        logging.makeLogRecord(
            {"name": "ssooidc_jupyter.test", "msg": "odd", "exc_info": True, "levelno": 40}
        )
    )
    odd = logging.makeLogRecord(
        {
            "name": "ssooidc_jupyter.test",
            "msg": "odd",
            "exc_info": (None, None, None),
            "stack_info": f"Stack (most recent call last):\n  {SECRET}",
            "levelno": 40,
        }
    )
    RedactingFilter().filter(odd)
    logger.handle(odd)
    output = captured.getvalue()
    assert "ValueError: refused" in output and "Stack (most recent call last)" in output
    assert SECRET not in output and REDACTED in output


def test_the_filter_on_a_handler_takes_every_shape() -> None:
    the_filter = RedactingFilter()
    shapes: list[dict[str, Any]] = [
        {},
        {"msg": None},
        {"msg": 1, "args": None},
        {"msg": "%(a)s", "args": {"a": SECRET}},
        {"msg": "%s", "args": (SECRET,)},
        {"msg": "%s %s", "args": (SECRET,)},
        {"msg": Unprintable()},
        {"exc_info": True},
        {"exc_info": (None, None, None)},
        {"exc_info": "nonsense", "exc_text": 42, "stack_info": 7},
        {"name": None, "msg": SECRET},
    ]
    for shape in shapes:
        record = logging.makeLogRecord(shape)
        assert the_filter.filter(record) is True
    masked = logging.makeLogRecord({"msg": "%s", "args": (SECRET,)})
    the_filter.filter(masked)
    assert SECRET not in masked.getMessage()


def test_queue_handler_round_trip() -> None:
    records: queue.Queue[logging.LogRecord] = queue.Queue()
    stream = io.StringIO()
    target = logging.StreamHandler(stream)
    target.setFormatter(logging.Formatter("%(name)s %(message)s"))
    listener = logging.handlers.QueueListener(records, target)
    logger = logging.getLogger("ssooidc_jupyter.queued")
    other = logging.getLogger("otherlib.queued")
    handler = logging.handlers.QueueHandler(records)
    logger.addHandler(handler)
    other.addHandler(handler)
    listener.start()
    try:
        logger.warning("token %s", SECRET)
        other.warning("plain %s", "value")
        try:
            raise KeyError(SECRET)
        except KeyError:
            logger.exception("with a traceback")
    finally:
        listener.stop()
        logger.removeHandler(handler)
        other.removeHandler(handler)
    output = stream.getvalue()
    assert "otherlib.queued plain value" in output and "with a traceback" in output
    assert SECRET not in output
    # A socket-style receiver rebuilds each record from its dict.
    rebuilt = logging.makeLogRecord(
        logging.makeLogRecord({"name": "ssooidc_jupyter.x", "msg": "m"}).__dict__
    )
    assert rebuilt.getMessage() == "m"


class JSONFormatter(logging.Formatter):
    """As python-json-logger and log shippers do: every attribute of the record."""

    def format(self, record: logging.LogRecord) -> str:
        data = dict(record.__dict__)
        data["message"] = record.getMessage()
        if record.exc_info:
            data["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(data, default=str)


def test_json_formatter() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JSONFormatter())
    logger = logging.getLogger("ssooidc_jupyter.json")
    logger.addHandler(handler)
    try:
        logger.warning("token %s", SECRET)
        logger.warning({"accessToken": SECRET})
        logging.getLogger("otherlib.json").addHandler(handler)
        logging.getLogger("otherlib.json").warning("other %s", 1)
        handler.handle(logging.makeLogRecord({}))
    finally:
        logger.removeHandler(handler)
        logging.getLogger("otherlib.json").removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert len(lines) == 4 and lines[2]["message"] == "other 1"
    assert SECRET not in stream.getvalue()
