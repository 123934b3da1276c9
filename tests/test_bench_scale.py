"""The scale benchmark's pure parts: percentiles, heap and memory figures, the budget, the
JSON line (``make bench-scale`` itself runs Keycloak for an hour and is no test)."""

from __future__ import annotations

import argparse
import json

import pytest

from bench import scale
from bench.fleet import tenant_file

G1_HEAP_INFO = """12345:
 garbage-first heap   total reserved 786432K, committed 131072K, used 52345K [0x0000000700000000)
  region size 1024K, 3 young (3072K), 0 survivors (0K)
 Metaspace       used 120000K, committed 121000K, reserved 1179648K
  class space    used 15000K, committed 15500K, reserved 1048576K
"""

PARALLEL_HEAP_INFO = """12345:
 PSYoungGen      total 20480K, used 1000K [0x00000000f5580000, 0x0000000100000000)
  eden space 16384K, 6% used [0x00000000f5580000,0x00000000f5680000,0x00000000f6580000)
 ParOldGen       total 51200K, used 30000K [0x00000000e0000000, 0x00000000e3200000)
  object space 51200K, 58% used [0x00000000e0000000,0x00000000e1d4c000,0x00000000e3200000)
 Metaspace       used 120000K, committed 121000K, reserved 1179648K
  class space    used 15000K, committed 15500K, reserved 1048576K
"""


def figures(
    tenants: int, *, median: float, rss_mib: float, apply_each: float = 0.5
) -> scale.SizeFigures:
    return scale.SizeFigures(
        tenants=tenants,
        tenants_added=tenants,
        fleet_apply_seconds=tenants * 0.5,
        fleet_apply_seconds_per_tenant_added=0.5,
        fleet_apply_seconds_all=tenants * apply_each,
        fleet_apply_seconds_per_tenant_all=0.5,
        noop_plan_seconds=1.0,
        noop_plan_seconds_per_tenant=0.01,
        noop_plan_changes=0,
        admin_read_ms_median=5.0,
        login_ms_median_first=median,
        login_ms_p99_first=median * 2,
        login_ms_median_last=median / 2,
        login_ms_p99_last=median,
        login_failures=0,
        admin_calls_per_warm_login=0.0,
        keycloak_start_seconds=30.0,
        keycloak_heap_mib_after_gc=100.0,
        bridge_rss_mib=rss_mib,
        step_seconds=60.0,
    )


def test_percentile_interpolates_between_ranks() -> None:
    """The percentile is linear between closest ranks, and exact at the ends."""
    values = [float(v) for v in range(1, 21)]
    assert scale.percentile(values, 50) == 10.5
    assert scale.percentile(values, 99) == pytest.approx(19.81)
    assert scale.percentile(values, 100) == 20.0
    assert scale.percentile([7.0], 99) == 7.0
    with pytest.raises(ValueError, match="no values"):
        scale.percentile([], 50)


def test_sizes_must_increase() -> None:
    """``--sizes`` takes increasing positive sizes and refuses anything else."""
    assert scale.parse_sizes("10,100, 500") == [10, 100, 500]
    for bad in ("100,10", "10,10", "0,5", ""):
        with pytest.raises(argparse.ArgumentTypeError):
            scale.parse_sizes(bad)


def test_the_fleet_keeps_its_names_as_it_grows() -> None:
    """A larger fleet starts with the smaller one's clients, so growing only adds realms."""
    assert scale.client_names(3) == ["scale-c0000", "scale-c0001", "scale-c0002"]
    assert scale.client_names(100)[:10] == scale.client_names(10)


def test_the_tenant_file_can_leave_clients_empty() -> None:
    """Clients without fields inherit everything; the partner carries the given keys."""
    text = tenant_file("p", ["a", "b"], ikey="DIX", api_host="h.test", client_fields=())
    assert "      a: {}\n      b: {}\n" in text
    assert "ikey: DIX" in text
    assert "api_host: h.test" in text


def test_heap_is_read_from_jcmd() -> None:
    """G1's heap line gives the used heap; other collectors' generations are summed."""
    assert scale.heap_used_kib(G1_HEAP_INFO) == 52345
    assert scale.heap_used_kib(PARALLEL_HEAP_INFO) == 31000
    with pytest.raises(ValueError, match="no heap figures"):
        scale.heap_used_kib("12345:\n Metaspace       used 1K, committed 2K, reserved 3K\n")


def test_kib_per_tenant_is_the_slope_between_the_extreme_sizes() -> None:
    """The bridge's growth per tenant compares the largest size with the smallest."""
    assert scale.kib_per_tenant({10: 50_000.0, 100: 51_000.0, 1000: 60_000.0}) == pytest.approx(
        10_000 / 990
    )
    assert scale.kib_per_tenant({10: 50_000.0}) is None


def test_the_budget_extrapolates_the_per_realm_rate() -> None:
    """A rising per-realm rate is extrapolated to the next size; a falling one is kept."""
    one = [scale.Step(size=10, added=10, grow_seconds=20.0, fixed_seconds=100.0)]
    assert scale.predict_seconds(one, 100) == pytest.approx(2.0 * 90 + 100)
    # rate 2 s/realm around 5 realms, 3 s/realm around 55: 0.02 s/realm more per realm
    rising = [*one, scale.Step(size=100, added=90, grow_seconds=270.0, fixed_seconds=100.0)]
    rate = 3.0 + (3.0 - 2.0) / (55 - 5) * (300 - 55)
    assert scale.predict_seconds(rising, 500) == pytest.approx(rate * 400 + 100 * rate / 3.0)
    falling = [*one, scale.Step(size=100, added=90, grow_seconds=90.0, fixed_seconds=100.0)]
    assert scale.predict_seconds(falling, 500) == pytest.approx(1.0 * 400 + 100)
    assert scale.fits(60, 2639, 45)
    assert not scale.fits(60, 2641, 45)


def test_the_json_line_names_the_goals_figures() -> None:
    """A mapping's figures carry the issue's figures at the largest size, the goals met
    there, and every size."""
    sizes = [figures(10, median=200.0, rss_mib=100.0), figures(100, median=220.0, rss_mib=101.0)]
    line = scale.summary(sizes, mapping="realm", stopped=None)
    assert line["tenants"] == 100
    assert line["mapping"] == "realm"
    assert line["login_median_ratio_max_vs_10"] == 1.1
    assert line["fleet_apply_seconds_all"] == 50.0
    assert line["admin_calls_per_warm_login"] == 0.0
    assert line["bridge_kib_per_tenant"] == pytest.approx(1024 / 90, abs=0.05)
    assert line["goals_met"] == dict.fromkeys(
        (
            "login_median_ratio_max_vs_10",
            "fleet_apply_seconds_all",
            "admin_calls_per_warm_login",
            "bridge_kib_per_tenant",
        ),
        True,
    )
    assert [s["tenants"] for s in line["sizes"]] == [10, 100]
    assert json.loads(json.dumps(line)) == line
    single = scale.summary(sizes[:1], mapping="organization", stopped="stopped before 100")
    assert single["bridge_kib_per_tenant"] is None
    assert single["stopped_by_budget"] == "stopped before 100"
    assert single["goals_met"]["bridge_kib_per_tenant"] is False


def test_a_goal_is_missed_past_its_bound() -> None:
    """Each goal has its bound: a slower login, a longer apply, an admin call, or more
    memory per tenant misses it."""
    slow = [
        figures(10, median=100.0, rss_mib=100.0),
        figures(1000, median=121.0, rss_mib=200.0, apply_each=0.7),
    ]
    met = scale.summary(slow, mapping="realm", stopped=None)["goals_met"]
    assert met == {
        "login_median_ratio_max_vs_10": False,
        "fleet_apply_seconds_all": False,
        "admin_calls_per_warm_login": True,
        "bridge_kib_per_tenant": False,
    }


def test_the_recommended_mapping_reached_most_tenants_then_met_most_goals() -> None:
    """The recommendation is the mapping that reached the most tenants; at equal sizes the
    one that meets more goals; at a tie, realms (the design's default)."""
    small = [figures(10, median=100.0, rss_mib=100.0), figures(500, median=100.0, rss_mib=100.1)]
    large = [figures(10, median=100.0, rss_mib=100.0), figures(1000, median=150.0, rss_mib=101.0)]
    realms = scale.summary(small, mapping="realm", stopped="stopped before 1000 realms")
    orgs = scale.summary(large, mapping="organization", stopped=None)
    assert scale.recommended({"realm": realms, "organization": orgs}) == "organization"
    orgs_small = scale.summary(small, mapping="organization", stopped=None)
    assert scale.recommended({"organization": orgs_small, "realm": realms}) == "realm"
    slower = [figures(10, median=100.0, rss_mib=100.0), figures(500, median=130.0, rss_mib=100.1)]
    realms_slower = scale.summary(slower, mapping="realm", stopped=None)
    assert scale.recommended({"realm": realms_slower, "organization": orgs_small}) == (
        "organization"
    )


def test_the_report_puts_the_recommended_mapping_first_and_keeps_both() -> None:
    """The JSON line's top level is the recommended mapping's figures (without the sizes),
    and every mapping's full figures sit under ``mappings``."""
    sizes = [figures(10, median=200.0, rss_mib=100.0), figures(100, median=220.0, rss_mib=101.0)]
    realms = scale.summary(sizes, mapping="realm", stopped=None)
    orgs = scale.summary(sizes[:1], mapping="organization", stopped=None)
    line = scale.report({"organization": orgs, "realm": realms}, bench_seconds=321.4)
    assert line["recommended_mapping"] == line["mapping"] == "realm"
    assert line["tenants"] == 100
    assert "sizes" not in line
    assert line["bench_seconds"] == 321
    assert set(line["mappings"]) == {"organization", "realm"}
    assert line["mappings"]["organization"]["sizes"][0]["tenants"] == 10
    assert json.loads(json.dumps(line)) == line


def test_mappings_are_named_once_each() -> None:
    """``--mappings`` takes organization and realm, in the order given, each once."""
    assert scale.parse_mappings("organization, realm") == ["organization", "realm"]
    assert scale.parse_mappings("realm") == ["realm"]
    for bad in ("", "realm,realm", "tenant"):
        with pytest.raises(argparse.ArgumentTypeError):
            scale.parse_mappings(bad)


def test_an_organization_fleet_has_its_own_names_and_members() -> None:
    """Organizations are named apart from realms (a client name is unique across both), and
    each has its own member in the partner realm."""
    assert scale.client_names(2, scale.ORGANIZATION) == ["scale-o0000", "scale-o0001"]
    assert scale.member_name("scale-o0001") == "dora-scale-o0001"


def test_the_identity_first_login_gets_its_password_form() -> None:
    """The second form of an identity-first login is given the password; other pages none."""
    assert scale.password_form('<input id="password" name="password" type="password">') == {
        "password": scale.PASSWORD
    }
    assert scale.password_form('<form><input name="otp"></form>') is None


def test_each_size_is_described_for_people() -> None:
    """Each size gives four readable lines on stderr, starting with its size and mapping."""
    lines = scale.describe(figures(10, median=200.0, rss_mib=100.0))
    assert len(lines) == 4
    assert all(line.startswith("10 client realms: ") for line in lines)
    assert "median/p99 first client 200.0/400.0" in lines[2]
    orgs = scale.describe(figures(10, median=200.0, rss_mib=100.0), scale.ORGANIZATION)
    assert orgs[0].startswith("10 client organizations: ")


def test_messages_carry_the_prefix(capsys: pytest.CaptureFixture[str]) -> None:
    """Human-readable lines go to stderr with the ``[bench-scale]`` prefix."""
    scale.say("hello")
    captured = capsys.readouterr()
    assert captured.err == "[bench-scale] hello\n"
    assert captured.out == ""


def test_the_realm_cache_size_reaches_keycloak_through_its_environment() -> None:
    """`--realm-cache N` becomes KC_CACHE_EMBEDDED_REALMS_MAX_COUNT, deploy/'s size by
    default; 0 leaves Keycloak's own; a negative size is refused."""
    assert scale.keycloak_environment(50000) == {"KC_CACHE_EMBEDDED_REALMS_MAX_COUNT": "50000"}
    assert scale.keycloak_environment(0) == {}
    with pytest.raises(SystemExit, match="number of entries"):
        scale.keycloak_environment(-1)
