"""`pulse`: the operator's command line (organizations, users, migrations, dead letters)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
from collections.abc import MutableMapping, Sequence
from pathlib import Path

from pydantic import ValidationError

from pulse_contracts import utcnow
from pulse_runtime.db import create_pool
from pulse_runtime.logging import configure_logging

from . import dead_letters, demo
from .handlers import accounts
from .settings import GatewaySettings

SERVICES = ("ingest", "aggregator", "alerter", "gateway", "share", "reporter")
# Written by `make dev` (scripts/dev.sh): the settings the local services run with.
DEV_ENV_FILE = Path("var") / "dev.env"


def development_defaults(checkout: Path, environ: MutableMapping[str, str]) -> None:
    """In a checkout where `make dev` ran, the command runs with the same settings as the
    services it started (PULSE_ENV=development, the local URLs), for every one the shell did
    not set. Without PULSE_ENV anywhere a setting defaults to production, which refuses the
    development secrets: right for a server, a trap right after `make dev`."""
    path = checkout / DEV_ENV_FILE
    if "PULSE_ENV" in environ or not path.is_file():
        return
    for line in path.read_text(encoding="utf-8").splitlines():
        key, sep, value = line.strip().partition("=")
        if sep and key.startswith("PULSE_") and key not in environ:
            environ[key] = value


def settings_problem(error: ValidationError) -> str:
    """One line naming the setting that is missing or wrong, instead of pydantic's report."""
    first = error.errors()[0]
    if first["loc"]:
        return f"PULSE_{str(first['loc'][0]).upper()}: {first['msg']}"
    reason = first.get("ctx", {}).get("error")
    return str(reason) if reason is not None else str(first["msg"])


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pulse", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser(
        "migrate", help="create roles and schemas, apply every service's migrations"
    )
    seed = commands.add_parser("seed-demo", help="the demo agency, through the running services")
    seed.add_argument("--gateway-url", default=None, help="default: PULSE_GATEWAY_PUBLIC_URL")
    seed.add_argument("--ingest-url", default=None, help="default: PULSE_GATEWAY_INGEST_URL")
    seed.add_argument(
        "--fake-provider-url", default=None, help="the fake ScrapeCreators server, when used"
    )
    dlq = commands.add_parser("dlq", help="messages waiting in the dead-letter queues")
    dlq_commands = dlq.add_subparsers(dest="dlq_command", required=True)
    dlq_commands.add_parser("list", help="how many dead letters each queue has")
    show = dlq_commands.add_parser("show", help="a queue's dead letters, one JSON line each")
    show.add_argument("queue", help="e.g. aggregator.posts (with or without .dlq)")
    show.add_argument("--limit", type=int, default=20)
    again = dlq_commands.add_parser("replay", help="move a queue's dead letters back to it")
    again.add_argument("queue", help="e.g. aggregator.posts (with or without .dlq)")
    again.add_argument("--limit", type=int, default=None, help="default: all of them")
    admin = commands.add_parser("admin", help="organizations and people")
    admin_commands = admin.add_subparsers(dest="admin_command", required=True)
    org = admin_commands.add_parser("create-org", help="a new agency and its first owner")
    org.add_argument("name")
    org.add_argument("--owner-email", required=True)
    org.add_argument("--owner-password", required=True)
    org.add_argument("--test", action="store_true", help="a test organization: never pulled")
    user = admin_commands.add_parser("create-user", help="a person in an existing organization")
    user.add_argument("--org-id", required=True)
    user.add_argument("--email", required=True)
    user.add_argument("--role", choices=("owner", "manager", "analyst"), required=True)
    user.add_argument("--password", required=True)
    user.add_argument("--name", default="")
    return parser


def _migrate_all() -> int:
    """Each service applies its own schema with its own command, `pulse-<service> migrate`, the
    one make, compose and the Kubernetes Job run: this CLI imports no other service, and a
    service's migrations are found, configured and applied in one place only. Stops at the
    first failure, whose output the operator has just seen."""
    installed = str(Path(sys.executable).parent)  # the same virtualenv first
    for service in SERVICES:
        command = shutil.which(f"pulse-{service}", path=installed) or shutil.which(
            f"pulse-{service}"
        )
        if command is None:
            print(f"pulse: pulse-{service} is not installed", file=sys.stderr)
            return 1
        # development_defaults has put the checkout's settings into os.environ: they carry over.
        # The command is our own console script, found on the virtualenv's PATH.
        returncode = subprocess.run([command, "migrate"], check=False).returncode  # noqa: S603
        if returncode != 0:
            return returncode
    return 0


async def _dead_letters(args: argparse.Namespace) -> list[str]:
    """The lines `pulse dlq …` prints."""
    amqp_url = GatewaySettings.load().amqp_url
    if args.dlq_command == "list":
        waiting = await dead_letters.depths(amqp_url)
        width = max(len(name) for name in waiting) + len(".dlq")
        return [f"{name + '.dlq':<{width}}  {count}" for name, count in waiting.items()]
    spec = dead_letters.queue_named(args.queue)
    if args.dlq_command == "show":
        letters = await dead_letters.peek(amqp_url, spec, max(1, args.limit))
        return [json.dumps(letter.as_dict(), ensure_ascii=False) for letter in letters]
    moved = await dead_letters.replay(amqp_url, spec, args.limit)
    return [f"moved {moved} message(s) from {spec.dlq_name} back to {spec.name}"]


async def _admin(args: argparse.Namespace) -> dict[str, object]:
    settings = GatewaySettings.load()
    pool = await create_pool(settings.dsn)
    try:
        if args.admin_command == "create-org":
            org, user = await accounts.create_organization(
                pool,
                name=args.name,
                owner_email=args.owner_email,
                owner_password=args.owner_password,
                is_test=args.test,
            )
            return {"org_id": str(org["id"]), "user_id": str(user["id"])}
        from uuid import UUID

        row = await accounts.create_user(
            pool,
            None,
            UUID(args.org_id),
            {"email": args.email, "name": args.name, "role": args.role, "password": args.password},
        )
        return {"org_id": args.org_id, "user_id": str(row["id"])}
    finally:
        await pool.close()


async def _seed(args: argparse.Namespace) -> dict[str, object]:
    settings = GatewaySettings.load()
    pool = await create_pool(settings.dsn)
    try:
        return await demo.seed_demo(
            pool,
            gateway_url=args.gateway_url or settings.public_url,
            ingest_url=args.ingest_url or settings.ingest_url,
            now=utcnow(),
            fake_provider_url=args.fake_provider_url,
        )
    finally:
        await pool.close()


def main(argv: Sequence[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    configure_logging("cli", "WARNING")
    development_defaults(Path.cwd(), os.environ)
    try:
        if args.command == "migrate":
            if returncode := _migrate_all():
                raise SystemExit(returncode)
            return
        if args.command == "dlq":
            try:
                lines = asyncio.run(_dead_letters(args))
            except (dead_letters.UnknownQueue, OSError) as exc:
                print(f"pulse: {exc}", file=sys.stderr)
                raise SystemExit(1) from exc
            print("\n".join(lines))
            return
        if args.command == "seed-demo":
            print(json.dumps(asyncio.run(_seed(args))))
            return
        try:
            result = asyncio.run(_admin(args))
        except ValidationError:
            raise
        except Exception as exc:  # the operator gets the reason, not a traceback
            print(f"pulse: {exc}", file=sys.stderr)
            raise SystemExit(1) from exc
    except ValidationError as exc:
        print(f"pulse: {settings_problem(exc)}", file=sys.stderr)
        raise SystemExit(2) from exc
    print(json.dumps(result))


if __name__ == "__main__":
    main()
