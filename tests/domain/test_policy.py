"""The policy file: DOMAIN.md's defaults, fast node lookup, and strict validation at load."""

import datetime as dt
from decimal import Decimal
from importlib import resources

import pytest

from battrace.domain import policy as policy_module
from battrace.domain.calendar import WorkingCalendar
from battrace.domain.policy import Policy
from battrace.domain.vocab import EventType, Role
from battrace.errors import ConfigError, InvalidInput

UTC = dt.UTC
AT_NOON = {"time": dt.datetime(2024, 9, 30, 4, tzinfo=UTC)}


@pytest.fixture(scope="module")
def policy():
    return Policy.default()


def edited(change):
    document = Policy.default_mapping()
    change(document)
    return document


def test_the_default_policy_has_a_version_and_a_fingerprint(policy):
    assert policy.version == "cn-2018-provisions/1"
    assert len(policy.fingerprint) == 64
    assert policy.source == "battrace:default_policy.toml"
    assert policy.timezone == "Asia/Shanghai"


@pytest.mark.parametrize(
    ("event_type", "roles", "node", "limit"),
    [
        ("vehicle_sold", {"automaker"}, "vehicle_sold", 15),
        ("vehicle_sold", {"importer"}, "vehicle_sold", 15),
        ("replaced", {"repairer"}, "repair_replacement", 30),
        ("removed", {"swap_operator"}, "repair_replacement", 30),
        ("collected", {"outlet"}, "outlet_intake_handover", 30),
        ("shipped", {"outlet"}, "outlet_intake_handover", 30),
        ("vehicle_scrapped", {"dismantler"}, "scrapped_vehicle_received", 15),
        ("removed", {"dismantler"}, "scrapped_pack_removed_handed_over", 15),
        ("shipped", {"dismantler"}, "scrapped_pack_removed_handed_over", 15),
        ("reprocessed", {"reprocessor"}, "reprocessed_product_out", 15),
        ("deployed", {"reprocessor"}, "reprocessed_product_out", 15),
        ("shipped", {"reprocessor"}, "reprocessed_product_out", 15),
        ("received", {"recycler"}, "recycler_intake", 30),
        ("dismantled", {"recycler"}, "recycler_final_processing", 30),
        ("recycled", {"recycler"}, "recycler_final_processing", 30),
        ("disposed", {"recycler"}, "recycler_final_processing", 30),
    ],
)
def test_each_node_of_domain_section_3_has_its_limit(policy, event_type, roles, node, limit):
    event = {**AT_NOON, "certificate_date": "2024-09-30"}
    found = policy.reporting_limit(event_type, roles, event)
    assert (found.node.name, found.limit_wd) == (node, limit)


@pytest.mark.parametrize(
    ("event_type", "roles"),
    [
        ("produced", {"battery_maker"}),
        ("installed", {"automaker"}),
        ("shipped", {"battery_maker"}),
        ("received", {"automaker"}),
        ("correction", {"recycler"}),
        ("enterprise_registered", {"regulator"}),
    ],
)
def test_events_without_a_node_have_no_limit(policy, event_type, roles):
    assert policy.reporting_limit(event_type, roles, AT_NOON) is None


def test_a_vehicle_sale_is_timed_from_its_certificate_date_not_its_time(policy):
    event = {"time": dt.datetime(2024, 10, 20, 9, tzinfo=UTC), "certificate_date": "2024-09-30"}
    assert policy.reporting_limit("vehicle_sold", ["automaker"], event).clock_date == dt.date(
        2024, 9, 30
    )


def test_the_clock_date_is_the_local_date_in_china(policy):
    # 18:00 UTC on 30 September is 02:00 on 1 October in Beijing
    event = {"time": dt.datetime(2024, 9, 30, 18, tzinfo=UTC)}
    assert policy.reporting_limit("received", ["recycler"], event).clock_date == dt.date(
        2024, 10, 1
    )
    as_text = {"time": "2024-09-30T18:00:00Z"}
    assert policy.reporting_limit("received", ["recycler"], as_text).clock_date == dt.date(
        2024, 10, 1
    )


def test_an_event_object_with_a_time_attribute_works_like_a_mapping(policy):
    class Event:
        time = dt.datetime(2024, 9, 30, 4, tzinfo=UTC)

        def get(self, name, default=None):
            return {"certificate_date": "2024-09-29"}.get(name, default)

    found = policy.reporting_limit("received", ["recycler"], Event())
    assert found.clock_date == dt.date(2024, 9, 30)
    sale = policy.reporting_limit("vehicle_sold", ["automaker"], Event())
    assert sale.clock_date == dt.date(2024, 9, 29)


def test_a_missing_clock_field_is_an_error_not_a_silent_fallback(policy):
    with pytest.raises(InvalidInput, match="'certificate_date', which is missing"):
        policy.reporting_limit("vehicle_sold", ["automaker"], AT_NOON)


def test_a_naive_time_is_refused(policy):
    with pytest.raises(InvalidInput, match="no UTC offset"):
        policy.local_date(dt.datetime(2024, 9, 30, 4))


def test_the_lookup_unpacks_and_accepts_the_domain_enums(policy):
    node, limit, clock_date = policy.reporting_limit(
        EventType.RECEIVED, frozenset({Role.RECYCLER}), AT_NOON
    )
    assert (node.name, limit, clock_date) == ("recycler_intake", 30, dt.date(2024, 9, 30))


def test_a_single_role_string_is_not_read_letter_by_letter(policy):
    assert policy.reporting_limit("collected", "outlet", AT_NOON).limit_wd == 30


def test_policy_and_calendar_together_decide_lateness(policy):
    event = {"time": dt.datetime(2024, 9, 30, 10, tzinfo=UTC)}
    found = policy.reporting_limit("received", ["recycler"], event)
    calendar = WorkingCalendar.default()
    on_time = calendar.is_late(found.clock_date, dt.date(2024, 11, 15), found.limit_wd)
    late = calendar.is_late(found.clock_date, dt.date(2024, 11, 18), found.limit_wd)
    assert on_time.deadline == dt.date(2024, 11, 15)
    assert not on_time.late
    assert late.late


def test_the_default_thresholds_follow_domain_section_4(policy):
    assert dict(policy.recovery_min_pct) == {
        "li": Decimal(90),
        "ni": Decimal(98),
        "co": Decimal(98),
        "mn": Decimal(98),
    }
    assert policy.prohibited_applications == frozenset({"e_bike"})
    assert policy.required_tests == ("residual_capacity_pct",)
    assert policy.silent_battery_days == 180
    assert policy.mass_balance_period == "quarter"
    assert isinstance(policy.mass_balance_tolerance_pct, Decimal)
    assert policy.missing_report_wd.shipment_not_received == 30


def test_a_reprocessed_product_may_name_any_edition_of_a_listed_standard(policy):
    assert policy.standard_accepted("energy_storage", "GB/T 34015.3-2021")
    assert policy.standard_accepted("energy_storage", "gb/t34015.3—2021")
    assert policy.standard_accepted("energy_storage", "GB/T 36276-2023")
    assert not policy.standard_accepted("energy_storage", "GB/T 3401")
    assert not policy.standard_accepted("energy_storage", "GB/T 34015.30-2021")
    assert not policy.standard_accepted("e_bike", "GB/T 34015.3-2021")


def test_missing_required_tests_are_named(policy):
    assert policy.missing_tests({"soh_pct": 80}) == ("residual_capacity_pct",)
    assert policy.missing_tests({"residual_capacity_pct": 78.5}) == ()
    assert policy.missing_tests(None) == ("residual_capacity_pct",)


def test_a_deployment_file_is_loaded_and_changes_the_fingerprint(tmp_path, policy):
    text = (
        (resources.files("battrace.domain.data") / "default_policy.toml")
        .read_text(encoding="utf-8")
        .replace('version = "cn-2018-provisions/1"', 'version = "province-x/2"')
        .replace("li = 90", "li = 92.5")
    )
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    mine = Policy.load(path)
    assert mine.version == "province-x/2"
    assert mine.recovery_min_pct["li"] == Decimal("92.5")
    assert mine.source == str(path)
    assert mine.fingerprint != policy.fingerprint


def test_the_fingerprint_ignores_formatting_but_not_content(policy):
    same = Policy.from_mapping(Policy.default_mapping())
    assert same.fingerprint == policy.fingerprint
    other = Policy.from_mapping(edited(lambda d: d.update(silent_battery_days=181)))
    assert other.fingerprint != policy.fingerprint


def test_nodes_can_be_narrowed_by_event_fields():
    def add_node(document):
        document["reporting_nodes"].insert(
            0,
            {
                "name": "removed_for_scrapping",
                "label_zh": "报废拆卸",
                "label_en": "Removed for scrapping",
                "event_types": ["removed"],
                "when": {"reason": ["scrapping"]},
                "limit_wd": 10,
            },
        )

    custom = Policy.from_mapping(edited(add_node))
    scrapping = {**AT_NOON, "reason": "scrapping"}
    defect = {**AT_NOON, "reason": "defect"}
    assert custom.reporting_limit("removed", ["repairer"], scrapping).limit_wd == 10
    assert custom.reporting_limit("removed", ["repairer"], defect).limit_wd == 30


def test_produced_can_be_given_a_limit_by_configuration():
    def add_node(document):
        document["reporting_nodes"].append(
            {
                "name": "production",
                "label_zh": "生产",
                "label_en": "Production",
                "event_types": ["produced"],
                "limit_wd": 5,
            }
        )

    custom = Policy.from_mapping(edited(add_node))
    assert custom.reporting_limit("produced", ["battery_maker"], AT_NOON).limit_wd == 5


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("version"), r"version: is required"),
        (lambda d: d.update(version=3), r"version: must be a string"),
        (lambda d: d.update(colour="red"), r"colour: unknown key"),
        (
            lambda d: d["reporting_nodes"][0].update(limit_wd=-1),
            r"reporting_nodes\[0\]\.limit_wd: must be at least 0, got -1",
        ),
        (
            lambda d: d["reporting_nodes"][0].update(limit_wd="15"),
            r"reporting_nodes\[0\]\.limit_wd: must be an integer",
        ),
        (
            lambda d: d["reporting_nodes"][1].update(event_types=["sold"]),
            r"reporting_nodes\[1\]\.event_types: unknown event type 'sold'",
        ),
        (
            lambda d: d["reporting_nodes"][1].update(event_types=["outlet_registered"]),
            r"registry fact; it has no reporting limit",
        ),
        (
            lambda d: d["reporting_nodes"][1].update(roles=["garage"]),
            r"reporting_nodes\[1\]\.roles: unknown role 'garage'",
        ),
        (
            lambda d: d["reporting_nodes"][1].update(name="vehicle_sold"),
            r"'vehicle_sold' names two nodes",
        ),
        (
            lambda d: d["reporting_nodes"][2].update(deadline=3),
            r"reporting_nodes\[2\]\.deadline: unknown key",
        ),
        (
            lambda d: d["recovery_min_pct"].update(li=101),
            r"recovery_min_pct\.li: must be between 0 and 100, got 101",
        ),
        (
            lambda d: d["recovery_min_pct"].update(li=-1),
            r"recovery_min_pct\.li: must be between 0 and 100",
        ),
        (lambda d: d["recovery_min_pct"].pop("co"), r"recovery_min_pct\.co: is required"),
        (lambda d: d["recovery_min_pct"].update(zn=50), r"recovery_min_pct\.zn: unknown key"),
        (
            lambda d: d["mass_balance"].update(tolerance_pct="5"),
            r"mass_balance\.tolerance_pct: must be a number",
        ),
        (
            lambda d: d["mass_balance"].update(period="week"),
            r"mass_balance\.period: must be one of month, quarter, year",
        ),
        (
            lambda d: d["missing_report_wd"].update(shipment_not_received=0),
            r"missing_report_wd\.shipment_not_received: must be at least 1",
        ),
        (
            lambda d: d["applications"].update(prohibited=[]),
            r"applications\.prohibited: must include 'e_bike'",
        ),
        (
            lambda d: d["applications"].update(prohibited=["e_bike", "scooter"]),
            r"'scooter' is not in applications\.known",
        ),
        (
            lambda d: d["applications"]["standards"].update(e_bike=["GB/T 34015.3"]),
            r"applications\.standards\.e_bike: is prohibited",
        ),
        (lambda d: d.update(timezone="Mars/Olympus"), r"timezone: no time-zone data"),
        (lambda d: d.update(timezone="+25:00"), r"timezone: '\+25:00' is not a UTC offset"),
        (lambda d: d.update(silent_battery_days=True), r"silent_battery_days: must be an integer"),
        (
            lambda d: d["recoding"].update(ebike_like_max_voltage_v=-48),
            r"recoding\.ebike_like_max_voltage_v: must not be negative",
        ),
    ],
)
def test_invalid_policies_fail_at_load_naming_the_key(change, message):
    with pytest.raises(ConfigError, match=message):
        Policy.from_mapping(edited(change), source="deploy.toml")


def test_errors_name_the_file_they_come_from(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text('version = "x"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"broken\.toml: reporting_nodes: is required"):
        Policy.load(path)


def test_a_fixed_offset_timezone_is_accepted():
    custom = Policy.from_mapping(edited(lambda d: d.update(timezone="+08:00")))
    assert custom.local_date(dt.datetime(2024, 9, 30, 18, tzinfo=UTC)) == dt.date(2024, 10, 1)


def test_without_tzdata_shanghai_falls_back_to_a_fixed_eight_hours(monkeypatch):
    def no_data(name):
        raise policy_module.zoneinfo.ZoneInfoNotFoundError(name)

    monkeypatch.setattr(policy_module, "_load_zone", no_data)
    custom = Policy.from_mapping(Policy.default_mapping())
    assert custom.tz.utcoffset(None) == dt.timedelta(hours=8)
    assert custom.local_date(dt.datetime(2024, 9, 30, 16, tzinfo=UTC)) == dt.date(2024, 10, 1)
    with pytest.raises(ConfigError, match="install tzdata"):
        Policy.from_mapping(edited(lambda d: d.update(timezone="Europe/Paris")))


def test_reporting_limit_lookup_is_fast(policy):
    import time

    event = {"time": dt.datetime(2024, 9, 30, 4, tzinfo=UTC)}
    t0 = time.perf_counter()
    for _ in range(10_000):
        policy.reporting_limit("received", ("recycler",), event)
    assert time.perf_counter() - t0 < 1.0
