"""The API's flask-smorest Blueprint: argument schemas instantiated once, JSON bodies parsed with a depth bound."""

from __future__ import annotations

import json
from typing import Any

import flask
import flask_smorest
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request

# No request of the API nests deeper than about 5 levels; 32 leaves room and stops a body nested 100,000 deep
# (which json.loads answers with RecursionError, a 500) before any schema walks it.
MAX_JSON_DEPTH = 32


def json_depth(value: Any) -> int:
    """How deeply lists and objects nest in a parsed JSON value (iterative: no recursion of our own)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def load_json(data: bytes | str) -> Any:
    """Parse a JSON body; json.JSONDecodeError (a 400) when it is not JSON or nests deeper than MAX_JSON_DEPTH."""
    # The error's document must not be empty: webargs reads an empty one as "no body" and goes on.
    too_deep = json.JSONDecodeError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels", "(nested too deep)", 0)
    try:
        value = core.parse_json(data)
    except RecursionError as exc:
        raise too_deep from exc
    if json_depth(value) > MAX_JSON_DEPTH:
        raise too_deep
    return value


class HallParser(FlaskParser):
    """webargs' Flask parser with the bounded JSON loader."""

    def _raw_load_json(self, req: flask.Request) -> Any:
        if not is_json_request(req):
            return core.missing
        return load_json(req.get_data(cache=True))


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest's Blueprint, except that ``arguments`` builds a schema class's instance at decoration time.

    webargs would otherwise instantiate (and deep-copy the fields of) the schema on every request — 4% of a
    ticket issue. Loading with a shared instance is thread-safe: marshmallow keeps no per-load state on it.
    """

    ARGUMENTS_PARSER = HallParser()

    def arguments(self, schema: Any, **kwargs: Any) -> Any:
        """Like flask-smorest's, with ``schema`` instantiated once if a class is given."""
        return super().arguments(schema() if isinstance(schema, type) else schema, **kwargs)
