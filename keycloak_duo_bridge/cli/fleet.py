"""``plan``, ``apply`` and ``export``: the tenant file against live Keycloak (docs/fleet.md)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from keycloak_duo_bridge.admin import auth_api_settings, duo_settings
from keycloak_duo_bridge.admin.keycloak import Keycloak
from keycloak_duo_bridge.cli._admin import confirm, print_json, print_table, settings, wiring_of
from keycloak_duo_bridge.cli._common import Subparsers, examples
from keycloak_duo_bridge.cli.duo_link import rest_options
from keycloak_duo_bridge.envelope import KeyRing
from keycloak_duo_bridge.errors import ConfigError
from keycloak_duo_bridge.fleet import spec as fleet_spec
from keycloak_duo_bridge.fleet.apply import apply_plan
from keycloak_duo_bridge.fleet.export import export
from keycloak_duo_bridge.fleet.live import Connect, read_live
from keycloak_duo_bridge.fleet.plan import Action, Plan, make_plan
from keycloak_duo_bridge.settings import Settings, key_ring

EXIT_CHANGES = 2


def register(subparsers: Subparsers) -> None:
    plan = subparsers.add_parser(
        "plan",
        help="what apply would change (writes nothing)",
        description=(
            "Compare a tenant file with live Keycloak and show what apply would change;"
            " exit 2 when there are changes, 0 when there are none."
        ),
        **examples(
            "keycloak-duo-bridge plan tenants.yaml",
            "keycloak-duo-bridge plan tenants.yaml --prune --out plan.json",
        ),
    )
    _common(plan)
    plan.add_argument("--out", type=Path, metavar="PLAN", help="save the plan for apply")
    plan.set_defaults(handler=run_plan)

    apply = subparsers.add_parser(
        "apply",
        help="converge Keycloak to a tenant file",
        description=(
            "Make live Keycloak match a tenant file: create and change realms and their Duo"
            " settings, and with --prune delete the tenants the file does not declare."
        ),
        **examples(
            "keycloak-duo-bridge apply tenants.yaml",
            "keycloak-duo-bridge apply tenants.yaml --plan-file plan.json --prune --yes",
        ),
    )
    _common(apply)
    apply.add_argument("--yes", action="store_true", help="do not ask before pruning")
    apply.add_argument(
        "--plan-file", type=Path, metavar="PLAN", help="refuse if the plan differs from this one"
    )
    apply.set_defaults(handler=run_apply)

    out = subparsers.add_parser(
        "export",
        help="write live Keycloak out as a tenant file",
        description=(
            "Write the partners and clients of live Keycloak, with their Duo settings, as a"
            " tenant file; skeys only with --secrets-dir."
        ),
        **examples(
            "keycloak-duo-bridge export -o tenants.yaml",
            "keycloak-duo-bridge export --partner acme --secrets-dir secrets/ -o acme.yaml",
        ),
    )
    out.add_argument("--partner", action="append", default=[], help="only this partner (repeat)")
    out.add_argument(
        "-o", "--output", type=Path, metavar="FILE", help="where to write (default: stdout)"
    )
    out.add_argument(
        "--secrets-dir",
        type=Path,
        metavar="DIR",
        help="decrypt skeys into DIR/<realm>.skey (0600) and reference them as file:",
    )
    out.set_defaults(handler=run_export)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, metavar="FILE", help="the tenant file (YAML)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument(
        "--prune", action="store_true", help="also delete tenant realms the file does not declare"
    )
    parser.add_argument(
        "--prune-match",
        default="*",
        metavar="GLOB",
        help="prune only undeclared tenants whose name matches (default: all)",
    )
    parser.add_argument(
        "--parallel", type=int, default=4, metavar="N", help="realms at a time (default 4)"
    )


def _connector(config: Settings) -> Connect:
    return lambda: Keycloak.from_settings(config)


def _ring(config: Settings, needed: bool) -> KeyRing | None:  # noqa: FBT001
    return key_ring(config) if needed or config.keyring is not None else None


def _has_secrets(spec: fleet_spec.FleetSpec) -> bool:
    """Whether the file declares an skey (Web SDK or Auth API)."""
    return any(
        t.duo.credentials or isinstance(t.duo.auth_api, fleet_spec.DeclaredCredentials)
        for t in spec.tenants
    )


def _compute(args: argparse.Namespace, config: Settings) -> tuple[fleet_spec.FleetSpec, Plan]:
    spec = fleet_spec.load(args.file)
    ring = _ring(config, _has_secrets(spec))
    wires = wiring_of(config) if config.bridge_signing_key else None
    live = read_live(
        _connector(config),
        spec,
        wiring=wires is not None,
        parallel=args.parallel,
        every_realm=bool(args.prune),
    )
    plan = make_plan(
        spec, live, ring=ring, wires=wires, prune=args.prune_match if args.prune else None
    )
    return spec, plan


def _show(plan: Plan, *, as_json: bool) -> None:
    if as_json:
        print_json(plan.to_json())
        return
    rows = [
        (r.realm, r.label, r.action.value, c.key, c.before, c.after)
        for r in plan.realms
        if r.action is not Action.NONE
        for c in (r.changes or (None,))
        if c is not None
    ] + [
        (r.realm, r.label, r.action.value, None, None, None)
        for r in plan.realms
        if r.action is not Action.NONE and not r.changes
    ]
    if rows:
        print_table(("realm", "kind", "action", "attribute", "before", "after"), rows)
    for problem in plan.problems:
        print(f"problem: {problem}")
    print(plan.summary())


def run_plan(args: argparse.Namespace) -> int:
    _, plan = _compute(args, settings())
    _show(plan, as_json=args.json)
    if args.out is not None:
        args.out.write_text(json.dumps(plan.to_json(), indent=2, sort_keys=True) + "\n")
    if plan.problems:
        return 1
    return EXIT_CHANGES if plan.has_changes else 0


def run_apply(args: argparse.Namespace) -> int:
    config = settings()
    spec, plan = _compute(args, config)
    if args.plan_file is not None:
        try:
            saved = json.loads(args.plan_file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigError(f"cannot read the plan file {args.plan_file}: {exc}") from None
        if saved != plan.to_json():
            raise ConfigError(
                f"the plan changed since {args.plan_file} was saved; "
                "run plan again (nothing applied)"
            )
    if not args.json:
        _show(plan, as_json=False)
    doomed = [
        f"{r.realm} (an organization of {r.partner}: its members stay)" if r.partner else r.realm
        for r in plan.realms
        if r.action is Action.DELETE
    ]
    if doomed and not confirm(
        f"Delete realm(s) {', '.join(doomed)} and all their users?", yes=args.yes
    ):
        print("nothing applied")
        return 1
    outcomes = apply_plan(
        plan,
        _connector(config),
        ring=_ring(config, _has_secrets(spec) or any(t.duo.provision for t in spec.tenants)),
        wires=wiring_of(config) if config.bridge_signing_key else None,
        template_dir=config.template_dir,
        parallel=args.parallel,
        progress=_progress,
        auth_api_check=auth_api_settings.live_check(
            config.duo_ca_file, config.duo_read_timeout, allow_any_host=config.duo_allow_any_host
        ),
        duo_options=rest_options(config),
        health=duo_settings.duo_health_check(
            config.duo_ca_file, allow_any_host=config.duo_allow_any_host
        ),
    )
    failed = [o for o in outcomes if o.error is not None]
    if args.json:
        print_json(
            {
                "applied": [{"realm": o.realm, "action": o.action.value} for o in outcomes],
                "failed": [{"realm": o.realm, "error": o.error} for o in failed],
            }
        )
    else:
        for outcome in failed:
            print(f"failed: {outcome.realm}: {outcome.error}", file=sys.stderr)
        print(f"Applied: {len(outcomes) - len(failed)} realm(s) converged, {len(failed)} failed.")
    return 1 if failed else 0


def _progress(done: int, total: int, realm: str) -> None:
    end = "\n" if done == total or not sys.stderr.isatty() else ""
    print(f"\rapply: [{done}/{total}] {realm}", end=end, file=sys.stderr, flush=True)


def run_export(args: argparse.Namespace) -> int:
    config = settings()
    ring = _ring(config, args.secrets_dir is not None)
    base = args.output.parent if args.output is not None else None
    text = export(
        Keycloak.from_settings(config),
        partners=args.partner,
        ring=ring,
        secrets_dir=args.secrets_dir,
        base=base,
    )
    if args.output is None:
        print(text, end="")
    else:
        args.output.write_text(text, encoding="utf-8")
        print(f"wrote {args.output}")
    return 0
