"""Schemathesis hooks for tests/contract/schemathesis.test.ts (loaded via SCHEMATHESIS_HOOKS).

POST /api/v1/dispatch accepts an `interval_end` between the NEM's start (1998-12-13) and one day
ahead of the server's clock. The 5-minute-boundary rule is in the schema (a pattern); "not after
tomorrow" depends on the clock and cannot be, so a generated valid instant in year 0504 or 2999 is
rightly refused. Such values are moved into 2020 (a leap year, so 02-29 stays a date), keeping
their time of day, offset and validity, so the run still tests the pattern and everything else.

An alert rule's `webhook_url` is accepted only for hosts on the operator's allowlist (resolved by
DNS, which this machine does not have): a generated valid URL is rightly refused with 422. Valid
ones are pointed at the loopback address the test's node allows (ALERT_WEBHOOK_ALLOWLIST), so
everything else about the rule is still tested; invalid ones (not http(s), too long) stay as
generated and must still be a 400.
"""

import re
from urllib.parse import urlsplit

import schemathesis

ALLOWED_WEBHOOK = "http://127.0.0.1:9/schemathesis"
ALERT_PATHS = ("/api/v1/alerts", "/api/v1/alerts/{id}")
INTERVAL_END = re.compile(r"^[0-9]{4}(-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-5][05]:00(\.0{1,9})?(Z|[+-][0-9]{2}:[0-5][05]))$")


@schemathesis.hook
def before_call(ctx, case, **kwargs):
    body = case.body
    if (
        case.operation.method.upper() == "POST"
        and case.operation.path == "/api/v1/dispatch"
        and isinstance(body, dict)
        and isinstance(body.get("interval_end"), str)
    ):
        match = INTERVAL_END.match(body["interval_end"])
        if match:
            body["interval_end"] = "2020" + match.group(1)
    if (
        case.operation.method.upper() in ("POST", "PATCH")
        and case.operation.path in ALERT_PATHS
        and isinstance(body, dict)
        and not is_negative(case)
        and is_valid_webhook(body.get("webhook_url"))
    ):
        body["webhook_url"] = ALLOWED_WEBHOOK


def is_negative(case):
    """A case generated to violate the schema: its URL must reach the API as generated."""
    mode = getattr(getattr(getattr(case, "meta", None), "generation", None), "mode", None)
    return getattr(mode, "value", mode) == "negative"


def is_valid_webhook(url):
    """Whether the API would take `url` were its host allowed (the schema's own rules)."""
    if not isinstance(url, str) or len(url) > 2048 or any(c.isspace() for c in url):
        return False
    try:
        parts = urlsplit(url)
        return parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:
        return False
