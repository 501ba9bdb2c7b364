"""The charting library of the HTML report, served once and cached for good: ``/static/plotly-<version>.min.js``.

The file is the plotly package's own bundled ``plotly.min.js`` (about 4.8 MB); its version is in its name, so that it
can be cached as immutable (a new plotly is a new URL). Public, like the docs' assets: a browser cannot send
X-API-Key with a ``<script src>``, and the file is the public release of plotly.js, the same on every server.
"""

from __future__ import annotations

import functools
from importlib.resources import files
from importlib.util import find_spec
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse

STATIC_URL = "/static"
IMMUTABLE = "public, max-age=31536000, immutable"


@functools.cache
def plotly_js_url() -> str:
    """``/static/plotly-<plotly.js version>.min.js``."""
    from plotly.offline import get_plotlyjs_version

    return f"{STATIC_URL}/plotly-{get_plotlyjs_version()}.min.js"


def plotly_js_path() -> Path:
    """The plotly package's bundled, minified plotly.js."""
    return Path(str(files("plotly") / "package_data" / "plotly.min.js"))


def add_static(app: FastAPI) -> None:
    """``GET`` :func:`plotly_js_url` (when plotly is installed: the report needs it) with ``Cache-Control``
    :data:`IMMUTABLE`."""
    if find_spec("plotly") is None:
        return

    @app.get(plotly_js_url(), include_in_schema=False)
    def plotly_js() -> FileResponse:
        return FileResponse(
            plotly_js_path(), media_type="text/javascript; charset=utf-8", headers={"Cache-Control": IMMUTABLE}
        )
