"""Schemathesis hooks for tests/contract/schemathesis.test.ts (loaded via SCHEMATHESIS_HOOKS).

POST /api/v1/dispatch accepts an `interval_end` between the NEM's start (1998-12-13) and one day
ahead of the server's clock. The 5-minute-boundary rule is in the schema (a pattern); "not after
tomorrow" depends on the clock and cannot be, so a generated valid instant in year 0504 or 2999 is
rightly refused. Such values are moved into 2020 (a leap year, so 02-29 stays a date), keeping
their time of day, offset and validity, so the run still tests the pattern and everything else.
"""

import re

import schemathesis

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
