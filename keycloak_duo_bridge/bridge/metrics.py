"""Prometheus metrics in the text exposition format, without a client library."""

from __future__ import annotations

import threading
from collections import defaultdict
from typing import Final

LATENCY_BUCKETS: Final = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def _labels(pairs: tuple[tuple[str, str], ...]) -> str:
    if not pairs:
        return ""
    inner = ",".join(
        f'{k}="{v.replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"'
        for k, v in pairs
    )
    return "{" + inner + "}"


class Metrics:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.stepups: dict[tuple[tuple[str, str], ...], int] = defaultdict(int)
        self.fail_open: dict[tuple[tuple[str, str], ...], int] = defaultdict(int)
        self._latency_counts: dict[str, list[int]] = {}
        self._latency_sum: dict[str, float] = defaultdict(float)

    def stepup(self, realm: str, result: str) -> None:
        with self._lock:
            self.stepups[(("realm", realm), ("result", result))] += 1
            if result == "bypass":
                self.fail_open[(("realm", realm),)] += 1

    def duo_latency(self, call: str, seconds: float) -> None:
        with self._lock:
            counts = self._latency_counts.setdefault(call, [0] * (len(LATENCY_BUCKETS) + 1))
            for index, bound in enumerate(LATENCY_BUCKETS):
                if seconds <= bound:
                    counts[index] += 1
            counts[-1] += 1
            self._latency_sum[call] += seconds

    def render(self, health: dict[str, str]) -> str:
        lines = [
            "# HELP kdb_stepups_total Step-ups finished, by realm and result.",
            "# TYPE kdb_stepups_total counter",
        ]
        with self._lock:
            lines += [f"kdb_stepups_total{_labels(k)} {v}" for k, v in sorted(self.stepups.items())]
            lines += [
                "# HELP kdb_fail_open_total Logins let through without Duo because Duo was down.",
                "# TYPE kdb_fail_open_total counter",
            ]
            lines += [
                f"kdb_fail_open_total{_labels(k)} {v}" for k, v in sorted(self.fail_open.items())
            ]
            lines += [
                "# HELP kdb_duo_request_seconds Latency of calls to Duo.",
                "# TYPE kdb_duo_request_seconds histogram",
            ]
            for call, counts in sorted(self._latency_counts.items()):
                for bound, count in zip(LATENCY_BUCKETS, counts, strict=False):
                    labels = _labels((("call", call), ("le", str(bound))))
                    lines.append(f"kdb_duo_request_seconds_bucket{labels} {count}")
                labels = _labels((("call", call), ("le", "+Inf")))
                lines.append(f"kdb_duo_request_seconds_bucket{labels} {counts[-1]}")
                total = self._latency_sum[call]
                lines.append(f"kdb_duo_request_seconds_sum{_labels((('call', call),))} {total}")
                lines.append(
                    f"kdb_duo_request_seconds_count{_labels((('call', call),))} {counts[-1]}"
                )
        lines += [
            "# HELP kdb_duo_healthy Duo health per integration (1 closed circuit, 0 open).",
            "# TYPE kdb_duo_healthy gauge",
        ]
        lines += [
            f"kdb_duo_healthy{_labels((('integration', key),))} {1 if state == 'closed' else 0}"
            for key, state in sorted(health.items())
        ]
        return "\n".join(lines) + "\n"
