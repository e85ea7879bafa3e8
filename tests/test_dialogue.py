"""Reading short replies (bot/dialogue.py): cancel, confirm, edit, names, own companies,
places, several demands."""

import pytest

from bot import dialogue


@pytest.mark.parametrize("text,cancel", [
    ("取消", True), ("算了算了", True), ("不登记了", True), ("不用了", True), ("不办了", True),
    ("取消吧", True), ("/deny", True), ("取消转人工", False), ("跳过", False), ("没有", False),
    ("这个合同取消了以后对方一直不退定金怎么办", False)])
def test_cancel(text, cancel):
    assert dialogue.is_cancel(text) is cancel


@pytest.mark.parametrize("text,yes", [
    ("确认提交", True), ("確認提交", True), ("对的", True), ("好的", True), ("OK", True),
    ("没问题，提交吧", True), ("是的没错", True), ("/affirm", True), ("刘芳", False),
    ("嗯嗯", False), ("主要是钱的问题", False), ("13905701234", False), ("不对", False)])
def test_confirmation(text, yes):
    assert dialogue.is_confirmation(text) is yes


@pytest.mark.parametrize("text,field,value", [
    ("手机号改成13900001111", "mobile", "13900001111"),
    ("电话写错了，应该是13800001111", "mobile", "13800001111"),
    ("联系人是李四", "contact_name", "李四"), ("联系人改为赵会计", "contact_name", "赵会计"),
    ("企业名称改为龙游恒丰纸业有限公司", "company", "龙游恒丰纸业有限公司"),
    ("不是衢江区，是龙游县", "region", "龙游县"), ("地区是柯城区", "region", "柯城区"),
    ("修改手机", "mobile", None), ("改一下地区", "region", None),
    ("补充：还有200万", "content_add", "还有200万")])
def test_edits(text, field, value):
    assert dialogue.parse_edit(text) == dialogue.Edit(field, value)


@pytest.mark.parametrize("text", ["刘芳", "13905701234", "高企认定要什么条件", "确认提交"])
def test_not_edits(text):
    assert dialogue.parse_edit(text) is None


@pytest.mark.parametrize("text,name", [
    ("刘芳", "刘芳"), ("王经理", "王经理"), ("张女士", "张女士"), ("我叫陈建国", "陈建国"),
    ("小王", "小王"), ("欧阳娜娜", "欧阳娜娜"), ("傅工", "傅工"), ("联系人王强", "王强"),
    ("Tom", "Tom"), ("柯城区", None), ("龙游", None), ("恒丰纸业有限公司", None),
    ("91330825MA2ABCDE1X", None), ("123", None), ("主要是钱的问题", None), ("你好", None)])
def test_contact_names(text, name):
    assert dialogue.contact_name(text) == name


@pytest.mark.parametrize("text,company", [
    ("我们公司是龙游县恒丰纸业有限公司，贷款难", "龙游县恒丰纸业有限公司"),
    ("我司浙江华丰机械有限公司，被欠款", "浙江华丰机械有限公司"),
    ("我是衢州市华达建材有限公司的负责人", "衢州市华达建材有限公司"),
    ("银行让我们找担保公司，担保费又太高", None),
    ("对方宏达建设有限公司欠我们钱", None),
    ("浙江信保融资担保有限公司今年不再为我公司的贷款提供担保", None)])
def test_only_the_users_own_company(text, company):
    assert dialogue.own_company(text) == company


def test_regions_stated_outside_company_names_most_specific_first():
    found = dialogue.stated_regions("我们是衢州的企业，龙游县衢江精工机械有限公司")
    assert [r.name for r in found] == ["衢州市"]
    found = dialogue.stated_regions("龙游县的企业，衢州市龙游县衢江精工机械有限公司")
    assert [r.name for r in found] == ["龙游县"]


@pytest.mark.parametrize("text,parts", [
    ("我们是龙游县的企业，一是新厂房用地指标迟迟批不下来，二是银行下个月要抽贷。",
     ["一是新厂房用地指标迟迟批不下来", "二是银行下个月要抽贷"]),
    ("现有三个困难：一是施工许可迟迟未办结，二是银行要求提前还贷，三是员工子女入学难",
     ["一是施工许可迟迟未办结", "二是银行要求提前还贷", "三是员工子女入学难"]),
    ("常山的 厂里电一直接不进来 另外员工孩子上学没学位 咋整",
     ["常山的 厂里电一直接不进来", "另外员工孩子上学没学位 咋整"]),
    ("我们厂招不到工人", ["我们厂招不到工人"])])
def test_demand_segments(text, parts):
    assert dialogue.demand_segments(text) == parts


def test_request_sentences_of_a_letter():
    letter = "尊敬的领导：我司成立于2008年，主营轴承。近年订单增长。恳请帮助协调新增用地指标。此致敬礼"
    assert dialogue.request_sentences(letter) == ["恳请帮助协调新增用地指标。"]


@pytest.mark.parametrize("text,vague", [("唉，说来话长", True), ("最近太难了", True),
                                        ("银行下个月要抽贷，货款也收不回来，设备贷款还要还", False)])
def test_vague_openers(text, vague):
    assert dialogue.is_vague(text) is vague
