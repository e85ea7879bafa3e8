"""The common-problem grouping (``bot.proactive.commons``) on hand-written demands; its
measured quality on the labelled set is ``bench/commons.py``'s business."""

from __future__ import annotations

import math

from bot.proactive.commons import (
    Demand,
    areas_of,
    cluster,
    group,
    pair_parts,
    pairs_of,
    profile,
    score,
    similarities,
)


def ids(groups) -> list[list[str]]:
    return [sorted(d.id for d in g.demands) for g in groups]


def test_two_enterprises_reporting_one_power_cut_are_grouped():
    demands = [Demand("a", "开发区这几天下午老是停电，一停就是两个小时，机器都停了", "utilities",
                      "常山县", 3, "甲机械"),
               Demand("b", "下午又断电了，一个礼拜第三次，车间设备全停", "utilities", "常山县", 6,
                      "乙塑料")]
    assert ids(group(demands)) == [["a", "b"]]
    assert pairs_of(group(demands)) == {("a", "b")}
    # 停电 and 断电 are one concept: it counts even where the words differ
    assert profile(demands[0].text).concepts == profile(demands[1].text).concepts == {"电"}


def test_the_same_complaint_in_another_town_is_another_problem():
    su, fo = (Demand("su", "苏溪镇工业区这几天白天没水，水压太低，车间用不了", "utilities",
                     "义乌市", 4, "甲织造"),
              Demand("fo", "佛堂镇工业区这几天白天没水，水压太低，车间用不了", "utilities",
                     "义乌市", 5, "乙印染"))
    assert profile(su.text).places == {"苏溪"} and profile(fo.text).places == {"佛堂"}
    assert group([su, fo]) == []
    assert similarities([su, fo])[(0, 1)] == -math.inf  # never, whatever the threshold
    # a third enterprise in 苏溪 joins the 苏溪 one only
    su2 = Demand("su2", "苏溪这边白天没水，染色用水都不够，什么时候恢复供水", "utilities",
                 "义乌市", 7, "丙袜业")
    assert ids(group([su, fo, su2])) == [["su", "su2"]]


def test_a_power_cut_and_low_water_pressure_in_one_park_stay_apart():
    demands = [Demand("p", "城南工业园下午停电，机器全停了", "utilities", "龙游县", 2, "甲"),
               Demand("w", "城南工业园自来水压力太低，三楼车间没水", "utilities", "龙游县", 3,
                      "乙")]
    assert group(demands) == []


def test_a_consultation_joins_only_a_group_it_is_close_to_member_by_member():
    cut = "城南工业园下午又停电了，机器全停，什么时候能修好"
    demands = [Demand("a", cut, "utilities", "龙游县", 2, "甲"),
               Demand("b", "城南工业园下午停电第四次了，设备烧坏了", "utilities", "龙游县", 4,
                      "乙"),
               Demand("q", "新厂房要申请增加用电容量，需要什么材料？", "utilities", "龙游县", 5,
                      "丙")]
    assert profile(demands[2].text).consultation
    assert not profile(cut).consultation
    assert ids(group(demands)) == [["a", "b"]]
    assert 2 in score(demands).consultations


def test_other_city_other_sub_topic_or_another_month_are_never_compared():
    text = "城南工业园下午停电，一停就是两个小时，机器全停了"
    base = Demand("a", text, "utilities", "龙游县", 10, "甲")
    for other in (Demand("b", text, "utilities", "乐清市", 10, "乙"),  # another city
                  Demand("b", text, "tax_service", "龙游县", 10, "乙"),  # another sub-topic
                  Demand("b", text, "utilities", "龙游县", 41, "乙")):  # 31 days later
        assert similarities([base, other]) == {}
        assert group([base, other]) == []
    neighbour = Demand("b", text, "utilities", "衢江区", 12, "乙")  # same city 衢州市
    assert ids(group([base, neighbour])) == [["a", "b"]]


def test_one_enterprise_alone_is_no_common_problem():
    demands = [Demand("a", "城南工业园下午停电，机器停了", "utilities", "龙游县", 2, "甲"),
               Demand("b", "城南工业园下午又停电了，第四次了", "utilities", "龙游县", 6, "甲")]
    assert group(demands) == []


def test_a_pair_score_is_the_sum_of_its_parts():
    a, b = profile("苏溪片区下午停电了"), profile("苏溪这边又断电了，怎么办")
    parts = pair_parts(a, b, 0.2)
    assert parts == {"text": 0.2, "shared_concept": 0.05, "places": 0.10,
                     "consultation": -0.05}


def test_places_named_together_are_one_area():
    areas = areas_of([profile("开发区城南片区（兴业路）每天下午断电"),
                      profile("兴业路这边又停电了"), profile("城南那边下午跳闸"),
                      profile("湖镇工业区停电")])
    assert areas[0] == areas[1] == areas[2] != areas[3]


def test_linkages():
    demands = [Demand(str(i), "x", "s", "龙游县", 0, str(i)) for i in range(3)]
    sims = {(0, 1): 0.5, (0, 2): 0.3, (1, 2): 0.0}  # 2 is close to 0, not to 1
    assert ids(cluster(demands, sims, 0.1, "average")) == [["0", "1", "2"]]
    assert ids(cluster(demands, sims, 0.1, "complete")) == [["0", "1"]]
    assert ids(cluster(demands, sims, 0.1, "guarded")) == [["0", "1", "2"]]
    assert ids(cluster(demands, sims, 0.1, "guarded", careful={2})) == [["0", "1"]]
    vetoed = {**sims, (1, 2): -math.inf}
    assert ids(cluster(demands, vetoed, 0.1, "average")) == [["0", "1"]]
