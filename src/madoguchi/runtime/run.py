"""`make run`: every process on the embedded default, until Ctrl-C.

Migrates the database, starts the action server, the Rasa server and (when present) the desk,
waits until each answers, prints where to open them, and stops them all together.
"""

from __future__ import annotations

import argparse
import importlib.util

from madoguchi.infra.db import upgrade
from madoguchi.infra.settings import load_settings
from madoguchi.review.retention import start_schedule
from madoguchi.runtime.launcher import (
    Launcher,
    StopSignal,
    action_service,
    desk_service,
    enter_production_if_exposed,
    keep_api_token,
    rasa_service,
)
from madoguchi.runtime.scale import run as run_scale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default=load_settings().host)
    parser.add_argument("--model", default="models/current.tar.gz")
    parser.add_argument("--profile", choices=["default", "scale"],
                        default=load_settings().profile,
                        help="scale: PostgreSQL, Redis, replicas behind haproxy (README)")
    args = parser.parse_args(argv)

    enter_production_if_exposed(args.host, args.profile)
    settings = load_settings()
    root = settings.root
    (root / "var").mkdir(exist_ok=True)
    if args.profile == "scale":
        return run_scale(args.host, root / args.model)


    upgrade(settings.database_url)

    # Retention once a day, the first run a few minutes after start (MADOGUCHI_RETENTION_DAYS,
    # default 180; `off` turns it off): old conversations anonymised, closed tickets' contact
    # data removed, the figures kept.

    start_schedule(settings.database_url)

    launcher = Launcher(root, root / "var" / "log")
    token_file = keep_api_token(root / "var" / "rasa-token")
    services = [
        launcher.start(action_service(root)),
        launcher.start(
            rasa_service(
                root,
                root / args.model,
                root / "endpoints.yml",
                host=args.host,
                auth_token=settings.rasa_token,
            )
        ),
    ]
    if importlib.util.find_spec("madoguchi.desk.app"):
        services.append(launcher.start(desk_service(host=args.host)))

    stop = StopSignal()
    try:
        print("starting (loading the model takes about half a minute)…", flush=True)
        launcher.wait_ready(services)
        print(f"Rasa server   http://{args.host}:5005  (REST: POST /webhooks/rest/webhook)")
        print(f"action server http://{args.host}:5055")
        if len(services) > 2:
            print(f"desk          http://{args.host}:8000/desk   chat demo: http://{args.host}:8000/")
        if token_file:
            print(f"API token     in {token_file} (owner only; made for this run)")
        print(f"logs          {launcher.log_dir}", flush=True)
        print("Ctrl-C stops everything.", flush=True)
        return stop.watch(services)
    finally:
        launcher.stop_all()


if __name__ == "__main__":
    raise SystemExit(main())
