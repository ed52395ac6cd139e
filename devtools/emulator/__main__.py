"""`python -m devtools.emulator [--host H] [--port P] [--speed S] [--config F] [--api-key K]`."""

from __future__ import annotations

import argparse

from devtools.emulator.app import create_app
from devtools.emulator.config import load_config
from devtools.serve import serve


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m devtools.emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=7072, help="0 picks a free port")
    parser.add_argument(
        "--speed", type=float, default=None, help="latency factor, 0 = instant (env EMULATOR_SPEED)"
    )
    parser.add_argument("--config", default=None, help="JSON file overlaying the defaults")
    parser.add_argument(
        "--api-key", default=None, help="key for api-key auth, '' disables (env EMULATOR_API_KEY)"
    )
    args = parser.parse_args(argv)
    config = load_config(args.config, speed=args.speed, api_key=args.api_key)
    serve(create_app(config), args.host, args.port)


if __name__ == "__main__":
    main()
