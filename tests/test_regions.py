from bot.regions import region_table


def test_every_city_and_county_of_zhejiang_is_known():
    regions = region_table().regions
    assert sum(r.level == "city" for r in regions.values()) == 11
    assert sum(r.level == "county" for r in regions.values()) == 90


def test_short_names_and_aliases_resolve_to_the_full_name():
    table = region_table()
    assert table.get("衢州").name == "衢州市"
    assert table.get("龙游").name == "龙游县" and table.get("龙游").city == "衢州市"
    assert table.get("景宁").name == "景宁畲族自治县"
    assert table.get("浙江").level == "province"


def test_ordinary_words_are_not_read_as_place_names():
    found = [r.name for _, _, r in region_table().find("天台漏水了，路桥费太贵，临海的厂房")]
    assert found == []
    assert [r.name for _, _, r in region_table().find("台州天台县")] == ["台州市", "天台县"]


def test_every_city_has_a_ticket_code():
    cities = [r for r in region_table().regions.values() if r.level == "city"]
    codes = [r.code for r in cities]
    assert all(codes) and len(set(codes)) == len(codes)
