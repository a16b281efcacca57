"""API fuzzing: schemathesis cases from /api/v1/openapi.json of a running server, as manager, kiosk and anonymous.

Bounded: a fixed number of examples per operation and mode (valid and invalid data), generated once with a fixed
seed (derandomised, so a failure reproduces) and replayed for each role. Every answer must be < 500, and every
error must carry the JSON error envelope.
"""

from __future__ import annotations

import contextlib

import hypothesis.errors
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode

from bench.server import Server
from bench.services import WEB_ONLY_ENV
from tests.scale.conftest import staff

EXAMPLES = 8  # per operation and mode; ~2,500 requests in all
SKIP = {("POST", "/api/v1/auth/logout")}  # would end the fuzzing manager's session


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


@pytest.mark.timeout(300)
def test_fuzzing_the_api_finds_no_server_error(tmp_path) -> None:
    with Server(instance=tmp_path / "hall", env=WEB_ONLY_ENV) as server:
        schema = schemathesis.openapi.from_url(f"{server.url}/api/v1/openapi.json")
        # Our own credentials, not generated ones: fuzz what an authorised caller can reach.
        schema.config.generation.update(with_security_parameters=False)
        manager = staff(server.url, "manager")
        roles = {
            "manager": {
                "Cookie": f"session={manager.cookies['session']}",
                "X-CSRFToken": manager.headers.get("X-CSRFToken", ""),
            },
            "kiosk": {"Authorization": "Bearer demo-kiosk-1"},
            "anonymous": {},
        }
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) > 30
        failures: list[str] = []
        sent = 0
        for operation in operations:
            if (operation.method.upper(), operation.path) in SKIP:
                continue
            cases = _cases(operation, GenerationMode.POSITIVE) + _cases(operation, GenerationMode.NEGATIVE)
            for case in cases:
                for role, headers in roles.items():
                    # Headers given per call (no cookie jar): a fuzzed login cannot replace the session.
                    r = case.call(headers=headers, timeout=30)
                    sent += 1
                    if r.status_code >= 500:
                        failures.append(f"{role}: {r.status_code} {case.as_curl_command()} → {r.text[:200]}")
                    elif r.status_code >= 400 and r.request.method != "HEAD":
                        try:
                            assert r.json()["error"]["code"]
                        except (ValueError, KeyError, TypeError, AssertionError):
                            failures.append(f"{role}: no error envelope {r.status_code} {case.as_curl_command()}")
        assert sent > 1000
        assert failures == [], "\n".join(failures[:20]) + f"\n… {len(failures)} in all; log: {server.log}"
