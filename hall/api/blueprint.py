"""The API's flask-smorest Blueprint: argument schemas instantiated once, not on every request."""

from __future__ import annotations

from typing import Any

import flask_smorest


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest's Blueprint, except that ``arguments`` builds a schema class's instance at decoration time.

    webargs would otherwise instantiate (and deep-copy the fields of) the schema on every request — 4% of a
    ticket issue. Loading with a shared instance is thread-safe: marshmallow keeps no per-load state on it.
    """

    def arguments(self, schema: Any, **kwargs: Any) -> Any:
        """Like flask-smorest's, with ``schema`` instantiated once if a class is given."""
        return super().arguments(schema() if isinstance(schema, type) else schema, **kwargs)
