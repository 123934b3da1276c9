"""``python -m bench``: every figure of issues 7 and 16 in one run; the last line is JSON."""

from __future__ import annotations

import argparse
import json
import sys
import time

from bench import capacity, ciba, logins, rig


def say(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--rounds", type=int, default=60, help="timed logins per setup")
    parser.add_argument("--seconds", type=int, default=8, help="rough length of the capacity run")
    parser.add_argument("--load-logins", type=int, default=500, help="logins in the load run")
    parser.add_argument("--load-realms", type=int, default=5, help="realms in the load run")
    parser.add_argument("--load-users", type=int, default=10, help="concurrent users per realm")
    args = parser.parse_args(argv)
    started = time.monotonic()
    running = rig.start(say)
    try:
        timing, trips = logins.measure(running, args.rounds, say)
        cib = ciba.measure(running, args.rounds, say)
        with capacity.bridge_process(running) as bridge:
            cap = capacity.measure_capacity(running, bridge, args.seconds, say)
            load = capacity.measure_load(
                running,
                bridge,
                realms=args.load_realms,
                users_per_realm=args.load_users,
                logins=args.load_logins,
                say=say,
            )
    finally:
        running.close(say)
    figures = {
        "login_ms_password_median": round(timing.median("password"), 1),
        "login_ms_otp_median": round(timing.median("otp"), 1),
        "login_ms_duo_median": round(timing.median("duo"), 1),
        "login_ms_duo_stepup_median": round(timing.median("duo_step_up"), 1),
        "otp_added_ms_median": round(timing.added_ms("otp"), 1),
        "duo_added_ms_median": round(timing.added_ms("duo"), 1),
        "duo_stepup_added_ms_median": round(timing.added_ms("duo_step_up"), 1),
        "duo_vs_otp_added_time_ratio": round(timing.ratio, 2),
        "duo_vs_otp_added_time_ratio_stepup_mode": round(timing.ratio_step_up, 2),
        "duo_vs_otp_ratio_unpaired": round(timing.ratio_unpaired, 2),
        "duo_vs_otp_ratio_unpaired_stepup_mode": round(timing.ratio_step_up_unpaired, 2),
        "stepups_per_second_one_core": round(cap.stepups_per_second_one_core),
        "bridge_cpu_ms_per_stepup": round(cap.bridge_cpu_ms_per_stepup, 2),
        "stepups_per_second_measured": round(cap.stepups_per_second_measured),
        "bridge_cpu_utilisation": round(cap.bridge_cpu_utilisation, 2),
        "stepup_failures": cap.failed,
        "duo_token_requests_per_login": round(trips.token_requests, 3),
        "duo_health_checks_per_login": round(trips.health_checks, 3),
        "duo_tls_connections_per_login": round(trips.tls_connections, 3),
        "admin_calls_per_login": round(trips.admin_calls, 3),
        "load_logins": load.logins,
        "load_errors": load.errors,
        "load_misdelivered": load.misdelivered,
        "load_seconds": round(load.seconds, 1),
        "bridge_rss_mib_before": round(load.rss_before_mib, 1),
        "bridge_rss_mib_after": round(load.rss_after_mib, 1),
        "ciba_added_ms_median": round(cib.added_ms, 1),
        "ciba_login_ms_median": round(cib.login_ms, 1),
        "ciba_duo_preauth_per_login": round(cib.preauth, 3),
        "ciba_duo_auth_per_login": round(cib.auth, 3),
        "ciba_duo_auth_status_per_login": round(cib.auth_status, 3),
        "ciba_duo_auth_status_max_per_login": cib.auth_status_max,
        "ciba_duo_auth_status_bound": cib.auth_status_bound,
        "ciba_failures": cib.failures,
        "bench_seconds": round(time.monotonic() - started),
    }
    width = max(map(len, figures))
    for name, value in figures.items():
        print(f"{name:<{width}}  {value}")
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
