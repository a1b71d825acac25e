"""``python -m web --host H --port P``: the review app under uvicorn, as ``alpr serve`` starts it
(settings from ``$ALPR_CONFIG`` / ``./alpr.toml`` and ``ALPR_*``, as everywhere)."""

from __future__ import annotations

import argparse

import uvicorn

from pipelines.config import load_settings
from web.app import create_app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m web", description=__doc__)
    parser.add_argument("--host", help="default: web.host")
    parser.add_argument("--port", type=int, help="default: web.port")
    args = parser.parse_args(argv)
    settings = load_settings()
    overrides = {k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None}
    if overrides:
        settings = settings.replace(web=overrides)  # validated again: loopback only
    uvicorn.run(
        create_app(settings),
        host=settings.web.host,
        port=settings.web.port,
        server_header=False,
        proxy_headers=False,  # X-Forwarded-* would let any local process claim another address
        log_level="info",
    )


if __name__ == "__main__":
    main()
