"""`make screens`: a PNG of every page state (tests/e2e/pages.py) in zh and en into instance/screens/.

Starts its own server on a free port with a fresh demo hall, seeds a morning's tickets and opens each state in
the system Chromium at its real size. Open instance/screens/index.html to see the whole product on one page.
"""

from __future__ import annotations

import argparse
import html
import sys
import time
from pathlib import Path

from bench.server import Server
from tests.e2e.conftest import ARGS, CHROMIUM
from tests.e2e.pages import LANGS, ROOT, SERVER_ENV, STATES, Pages, seed


def main(argv: list[str] | None = None) -> int:
    """Write the screenshots and an index page; print where they are."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "instance" / "screens")
    parser.add_argument("--only", default="", help="only states whose id contains this text, e.g. kiosk")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    args.out.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    written: list[tuple[str, str]] = []
    with Server(env=SERVER_ENV) as server, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        pages = Pages(browser, server.url, seed(server.url))
        for state in STATES:
            if args.only not in state.id:
                continue
            for lang in LANGS:
                loaded = pages.open(state, lang, strict=False)
                name = f"{state.id}-{lang}.png"
                loaded.page.screenshot(path=str(args.out / name))
                loaded.context.close()
                title = f"{state.id} · {lang}" + (f" — {loaded.problem}" if loaded.problem else "")
                if loaded.problem:
                    print(f"{name}: {loaded.problem}", file=sys.stderr)
                written.append((name, title))
        browser.close()
    # The index shows every PNG in the folder (an --only run replaces some and keeps the rest).
    titles = dict(written)
    cells = "\n".join(
        f'<figure><a href="{html.escape(n)}"><img src="{html.escape(n)}" alt="{html.escape(t)}"></a>'
        f"<figcaption>{html.escape(t)}</figcaption></figure>"
        for n, t in ((p.name, titles.get(p.name, p.stem)) for p in sorted(args.out.glob("*.png")))
    )
    (args.out / "index.html").write_text(
        '<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>hall screens</title><style>'
        "body{font-family:sans-serif;display:flex;flex-wrap:wrap;gap:12px}figure{margin:0}"
        "img{height:320px;border:1px solid #ccc}</style>" + cells + "</html>\n",
        encoding="utf-8",
    )
    print(f"{len(written)} screenshots in {args.out} ({time.monotonic() - started:.0f} s); open index.html")
    return 0


if __name__ == "__main__":
    sys.exit(main())
