"""API fuzzing: Schemathesis cases from /api/v1/openapi.json, every operation as every role, answers checked.

Every operation gets ``EXAMPLES`` valid and ``EXAMPLES`` invalid examples (fewer only when fewer distinct ones
exist, e.g. an operation without parameters), generated once, derandomised (the same cases on every run, so a
failure reproduces), and replayed for each role: anonymous, kiosk, hall display, rating tablet, clerk, leader,
manager, admin. Each answer must pass Schemathesis' checks — no 5xx, a documented status and content type, a
body that matches its documented schema (errors: the ``{"error": {...}}`` envelope) — plus our own: an error
carries a code and a message. The app runs in-process (the same WSGI app a server runs) on a real SQLite file,
so ~24,000 requests fit in the normal suite (about 90 s of CPU).
"""

from __future__ import annotations

import contextlib
import os
import time

import hypothesis.errors
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from werkzeug.test import Client

from tests.conftest import login

# Per operation and mode (valid, invalid), each replayed for every role; HALL_FUZZ_EXAMPLES=5 for a quick look.
EXAMPLES = int(os.environ.get("HALL_FUZZ_EXAMPLES", "25"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
SKIP = {("POST", "/api/v1/auth/logout")}  # would end the fuzzing role's session (tests/web cover logout)
DEVICES = {"kiosk": "demo-kiosk-1", "display": "demo-hall-display", "rater": "demo-rate-1"}
STAFF = ("clerk1", "leader", "manager", "admin")


def _cases(operation, mode: GenerationMode) -> list:  # noqa: ANN001 - schemathesis APIOperation
    found: list = []

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def collect(case) -> None:  # noqa: ANN001
        found.append(case)

    # Unsatisfiable: nothing to make invalid (an operation without parameters or body).
    with contextlib.suppress(hypothesis.errors.Unsatisfiable):
        collect()
    return found


def _roles(app) -> dict[str, dict[str, str]]:  # noqa: ANN001 - the Flask app
    """Headers for each role: a device's bearer token, or a staff session cookie with its CSRF token."""
    roles: dict[str, dict[str, str]] = {"anonymous": {}}
    roles.update({role: {"Authorization": f"Bearer {token}"} for role, token in DEVICES.items()})
    for username in STAFF:
        client = login(app, username)
        cookie = client.get_cookie("session")
        csrf = client.environ_base["HTTP_X_CSRFTOKEN"]
        roles[username.rstrip("1")] = {"Cookie": f"session={cookie.value}", "X-CSRFToken": csrf}
    return roles


@pytest.mark.timeout(900)
def test_fuzzing_every_operation_as_every_role(app) -> None:
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    # Our own credentials, not generated ones: fuzz what each caller can reach.
    schema.config.generation.update(with_security_parameters=False)
    roles = _roles(app)
    # No cookie jar: a fuzzed login's Set-Cookie must not change who the next request is.
    session = Client(app, use_cookies=False)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 78
    failures: list[str] = []
    sent, started = 0, time.monotonic()
    slow: dict[str, float] = {}
    for operation in operations:
        if (operation.method.upper(), operation.path) in SKIP:
            continue
        op_started = time.monotonic()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            for case in _cases(operation, mode):
                for role, headers in roles.items():
                    response = case.call(headers=headers, session=session)
                    sent += 1
                    try:
                        case.validate_response(response, checks=CHECKS, headers=headers)
                    except (AssertionError, BaseExceptionGroup) as exc:  # a Failure, or a FailureGroup of several
                        failures.append(f"{role} {mode.value}: {str(exc)[:600]}\n{case.as_curl_command()}")
                        continue
                    if response.status_code >= 400 and operation.method.upper() != "HEAD":
                        error = (response.json() or {}).get("error") or {}
                        if not (error.get("code") and error.get("message")):
                            failures.append(f"{role}: error without code/message {case.as_curl_command()}")
        slow[operation.label] = time.monotonic() - op_started
    elapsed = time.monotonic() - started
    print("slowest:", sorted(slow.items(), key=lambda kv: -kv[1])[:5])
    print(f"schemathesis: {sent} requests, {len(operations)} operations × {len(roles)} roles in {elapsed:.0f} s")
    assert EXAMPLES < 25 or sent > 20000
    assert failures == [], f"{len(failures)} failures:\n" + "\n\n".join(failures[:15])
