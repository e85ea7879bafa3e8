from pathlib import Path

import pytest

from bot.regions import region_table
from bot.tickets.routing import RoutingFileError, load_routing

ROUTING = Path(__file__).resolve().parent.parent / "config" / "routing.yml"


@pytest.fixture(scope="module")
def rules():
    return load_routing(ROUTING)


def region(name):
    return region_table().get(name)


def test_subtopic_rule_with_county_name(rules):
    r = rules.route("talent", "children_schooling", region("龙游"))
    assert (r.department, r.level) == ("龙游县教育局", "county")


@pytest.mark.parametrize(("subtopic", "department"), [
    ("business_registration", "龙游县市场监督管理局"),
    ("licence_permit", "龙游县行政审批服务局"),
    ("tax_service", "国家税务总局龙游县税务局"),
    ("housing_fund", "衢州市住房公积金管理中心龙游县分中心"),
    ("certificates_records", "龙游县行政服务中心"),
    ("general_inquiry", "龙游县企业综合服务中心"),
])
def test_basic_services_go_to_the_bureau_that_handles_them(rules, subtopic, department):
    """Issue 15: registration, licences, tax, housing fund, certificates."""
    r = rules.route("other", subtopic, region("龙游"))
    assert (r.department, r.level, r.needs_level) == (department, "county", None)


def test_domain_default_when_no_rule(rules):
    assert rules.route("finance", "bridge_loan", region("江山")).department == \
        "江山市金融工作服务中心"


def test_region_rule_beats_subtopic_rule(rules):
    assert rules.route("open", "customs_clearance", region("岱山")).department == "舟山海关"
    assert rules.route("open", "customs_clearance", region("龙游")).department == "衢州海关"


def test_city_only_region_uses_the_city_name(rules):
    assert rules.route("project", "project_approval", region("衢州")).department == \
        "衢州市发展和改革局"


def test_authority_list_marks_tickets_above_local_level(rules):
    assert rules.route("data", "cross_border_data", region("龙游")).needs_level == "province"
    assert rules.route("finance", "bridge_loan", region("龙游")).needs_level is None


def test_deadlines(rules):
    assert rules.deadline("finance").resolution == 5
    assert rules.deadline("talent").resolution == 10  # the default


@pytest.mark.parametrize("patch,message", [
    ("rules:\n  - {subtopic: nosuch, department: x}\n", "rule 1: unknown sub-topic"),
    ("rules:\n  - {subtopic: housing}\n", "rule 1: needs a department"),
    ("rules:\n  - {subtopic: housing, department: x, level: town}\n", "rule 1: level"),
    ("rules:\n  - {subtopic: housing, department: x}\n  - {subtopic: housing, department: y}\n",
     "rule 2: repeats rule 1"),
    ("rules:\n  - {subtopic: housing, region: 上海, department: x}\n", "unknown region"),
    ("rules:\n  - {subtopic: housing, department: '{town}局'}\n",
     "{county}, {city} and {city_short}"),
])
def test_bad_rules_name_the_file_and_rule(tmp_path, patch, message):
    base = ROUTING.read_text(encoding="utf-8")
    head = base[:base.index("rules:")]
    tail = base[base.index("# Which level"):]
    f = tmp_path / "routing.yml"
    f.write_text(head + patch + "\n" + tail, encoding="utf-8")
    with pytest.raises(RoutingFileError) as err:
        load_routing(f)
    assert "routing.yml" in str(err.value) and message in str(err.value)


def test_missing_default_is_an_error(tmp_path):
    f = tmp_path / "routing.yml"
    f.write_text("defaults: {project: {department: x}}\ndeadlines: {default: "
                 "{first_response: 1, resolution: 2}}\n", encoding="utf-8")
    with pytest.raises(RoutingFileError, match="no default department for"):
        load_routing(f)
