"""What a short reply means in the conversation: cancel, confirm, edit, a name, a place.

Pure functions over the user's text, shared by the form actions. They decide what
a reply *is* before the NLU's guess is consulted, because inside a form the same
words mean something else than out of context: "刘芳" is a contact name, not a
confirmation; "取消" at the credit-code question cancels, it does not skip.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.entities import extract_entities, find_mobile
from bot.regions import Region, region_table
from bot.text import normalize

_PUNCT = re.compile(r"[\s，。！？、；：,.!?;:~～…\-—_'\"“”‘’（）()【】\[\]<>《》]+")
_PARTICLES = "吧啊呀哈嘛呢哦喔噢了的滴呗"


def clean(text: str) -> str:
    """Simplified, half-width, lower-case, without punctuation or spaces."""
    return _PUNCT.sub("", normalize(text or "").text).lower()


def _core(text: str) -> str:
    """``clean`` without trailing particles and leading fillers (嗯, 那个)."""
    core = clean(text)
    core = re.sub(r"^(?:嗯+|呃+|那个|这个|好吧)", "", core) or core
    return core.rstrip(_PARTICLES) or core


# -- ending, restarting, skipping -----------------------------------------------------

_CANCEL = ("取消", "算了", "不登记", "不用登记", "不用了", "不办了", "不要了", "不弄了",
           "不提交", "不报了", "不需要了", "先不登记", "不想登记", "别登记", "撤销", "放弃")
_RESTART = ("重新开始", "重来", "从头开始", "重新来", "重新登记", "从头来")
_SKIP = ("跳过", "没有", "无", "不知道", "不清楚", "暂无", "没带", "忘了", "记不得", "记不清",
         "不记得", "查不到", "手头没有", "不方便", "不提供", "没得")


_LEAD = re.compile(r"^(?:嗯+|哦+|噢+|啊+|呃+|那个|那就|那|还是|我看|我|哎|唉|好吧|行吧)")


def is_cancel(text: str) -> bool:
    """An explicit wish to stop the current form: a short message that starts with a
    cancel word (取消, 算了, 不登记了 …); "订单被取消了" is no cancel."""
    core, plain = _core(text), clean(text)
    if text.strip() == "/deny" or core in ("不用", "不要", "不需要", "不了", "不登了", "不办"):
        return True
    lead = _LEAD.sub("", plain) or plain
    return len(plain) <= 12 and lead.startswith(_CANCEL) and "人工" not in plain \
        and not re.search(r"就行|就好|这样|没问题|可以了", plain)


def is_restart(text: str) -> bool:
    plain = clean(text)
    return len(plain) <= 10 and any(w in plain for w in _RESTART)


def is_skip(text: str) -> bool:
    """"No code at hand" at an optional question (跳过 / 没有 / 不清楚)."""
    plain = clean(text)
    return len(plain) <= 12 and any(w in plain for w in _SKIP) and not is_cancel(text)


# -- confirming ----------------------------------------------------------------------

_CONFIRM_STRONG = ("确认", "提交", "确定", "对", "是", "没问题", "没有问题", "没错", "可以", "好",
                   "行", "ok", "okay", "无误", "正确", "同意", "yes", "嗯好", "好滴", "中", "就这样",
                   "不要紧")
_CONFIRM_FILLER = ("信息", "都", "全", "就", "这样", "吧", "的", "了", "啊", "嗯", "麻烦", "请",
                   "帮我", "您", "直接", "一下")


def is_confirmation(text: str) -> bool:
    """A reply that is nothing but a confirmation (确认提交, 对的, 没问题, 確認, OK).

    The button payload ``/affirm`` counts; the NLU's ``affirm`` guess does not: a name,
    a number or "主要是钱的问题" is never a confirmation.
    """
    if text.strip() == "/affirm":
        return True
    rest = clean(text)
    if not rest or len(rest) > 16 or rest in ("对了", "是吧", "对吧", "是不是", "对不对", "好吗"):
        return False  # "对了，…" means "by the way"; tags are questions
    strong = False
    while rest:
        for word in sorted(_CONFIRM_STRONG + _CONFIRM_FILLER, key=len, reverse=True):
            if rest.startswith(word):
                strong = strong or word in _CONFIRM_STRONG
                rest = rest[len(word):]
                break
        else:
            return False
    return strong


_ALL_RE = re.compile(r"^(?:嗯|好|那|麻烦|请)?(?:全部|都|两个都|三个都|两件都|两项都|几个都|一起|一并)"
                     r"(?:要|需要|帮我|帮忙)?(?:登记|报|提交|办)?(?:一下)?(?:吧|啊|的)?$")


def wants_all(text: str) -> bool:
    """"两个都要登记", "全部登记": register every listed demand (the whole reply)."""
    return _ALL_RE.match(clean(text)) is not None


_VAGUE = ("说来话长", "一言难尽", "太难了", "好难", "压力很大", "压力大", "头疼", "愁死", "烦死",
          "撑不下去", "撑不住", "不容易", "没办法了", "难做", "不知道怎么办", "不知道找谁", "有点困难",
          "遇到困难", "遇到了困难", "遇到点问题", "遇到了一些问题", "有个问题", "有点事", "唉")


def is_vague(text: str) -> bool:
    """A short opener that says things are hard without saying what (唉，说来话长)."""
    plain = clean(text)
    return len(plain) <= 24 and any(w in plain for w in _VAGUE)


#: forms by name, as the user knows them
FORM_NAMES = {"ticket_form": "诉求登记", "profile_form": "政策匹配", "ticket_lookup_form": "工单查询",
              "rating_form": "评价"}
#: what a new session does not carry over: the unfinished draft and form state
NOT_CARRIED_OVER = ("demand", "more_demands", "confirm_ticket", "ticket_confirmed", "requested_slot",
               "region_city", "region_options", "editing", "form_left", "rating_pending",
               "lookup_pending", "lookup_number", "mobile_tail", "enterprise_size",
               "qualifications", "rating", "rating_ticket", "kb_answer", "policy_topic")


def draft_pending(demand: dict | None, ticket_number: str | None) -> bool:
    """A recognised problem not yet registered (asked "需要登记吗", or kept through a
    hand-over)."""
    return bool(demand and demand.get("domain")) and not ticket_number


def expired_draft_notice(active_loop: str | None, draft_pending: bool) -> str | None:
    """What to tell a user whose session expired with something unfinished (a form, or
    a problem not yet registered: asked "需要登记吗", or kept through a hand-over)."""
    what = FORM_NAMES.get(active_loop or "") or ("诉求登记" if draft_pending else None)
    if what is None:
        return None
    return f"您之前未完成的{what}已超过60分钟未操作，已自动取消，没有提交任何信息。"


_QUESTION = re.compile(r"[?？吗]|怎么|什么|如何|多少|哪里|哪个|哪些|能不能|为啥|为什么|是否|"
                       r"要不要|需不需要|可不可以|是不是|有没有|咋|啥")


def is_question(text: str) -> bool:
    """A reply that asks something back (it answers no form question)."""
    return _QUESTION.search(text or "") is not None


_HOLD = ("等一下", "等下", "稍等", "等等", "等会", "我查一下", "我找一下", "我看一下", "马上")


def is_hold(text: str) -> bool:
    """"等一下": the user needs a moment, nothing else."""
    plain = clean(text)
    return len(plain) <= 10 and any(w in plain for w in _HOLD)


# -- editing -------------------------------------------------------------------------

#: field → the words users call it
FIELDS = {
    "company": ("企业名称", "公司名称", "企业全称", "公司全称", "单位名称", "企业名", "公司名", "名称",
                "企业", "公司", "单位"),
    "credit_code": ("统一社会信用代码", "信用代码", "社会信用代码", "代码"),
    "region": ("所在地区", "地区", "区县", "县区", "所在地", "地址", "地点", "位置"),
    "contact_name": ("联系人姓名", "联系人", "姓名", "名字", "称呼"),
    "mobile": ("手机号码", "手机号", "手机", "电话号码", "电话", "联系电话", "联系方式", "号码"),
    "content": ("诉求内容", "内容", "问题描述", "描述"),
}
FIELD_NAMES = {"company": "企业", "credit_code": "统一社会信用代码", "region": "地区",
               "contact_name": "联系人", "mobile": "手机", "content": "内容"}
EDIT_BUTTONS = {f"修改{FIELD_NAMES[f]}": f for f in ("company", "region", "contact_name",
                                                    "mobile", "content")}

_CHANGE = r"(?:要)?(?:改成|改为|换成|换为|更正为|更改为|修改为|改一下|应该是|应为|是|为|写成|填)"
_FIELD_ALT = "|".join(sorted({w for ws in FIELDS.values() for w in ws}, key=len, reverse=True))
_EDIT_RE = re.compile(
    rf"^(?:请|麻烦|帮我)?(?:把)?(?P<field>{_FIELD_ALT})(?:号)?(?:写错了|错了|不对)?[,，:：\s]*"
    rf"{_CHANGE}[:：\s]*(?P<value>.+)$")
_NOT_BUT_RE = re.compile(r"^(?:不是|不在)(?P<old>[^,，。]{1,20})[,，\s]*(?:而?是|在)(?P<value>.+)$")
_ADD_RE = re.compile(r"^(?:诉求)?(?:内容)?(?:补充|再补充|补充一下|补充说明|另外补充)[:：,，\s]*(?P<value>.+)$")


#: words that name a field only loosely; with them only an explicit change verb edits
_VAGUE_FIELD_WORDS = {"企业", "公司", "单位", "名称", "代码", "地址", "地点", "位置", "号码", "电话",
                      "描述", "内容", "名字"}
_EXPLICIT_CHANGE = re.compile(r"改成|改为|换成|换为|更正为|更改为|修改为|改一下|应该是|应为|写成|写错|错了|不对")


@dataclass(frozen=True)
class Edit:
    field: str  # a key of FIELDS; "content_add" appends to the demand text
    value: str | None  # None: the user asked to change the field without a new value


def parse_edit(text: str) -> Edit | None:
    """An explicit change of one detail: "手机号改成139…", "联系人是李四", "修改手机",
    "不是衢江区，是龙游县", "补充：…"."""
    plain = normalize(text or "").text.strip().rstrip("。.！!")
    plain = re.sub(r"^(?:哦+|噢+|嗯+|啊+|呃+|哎+|喂+|那个|不好意思|对了|sorry)[,，。\s]*", "", plain)
    if plain in EDIT_BUTTONS:
        return Edit(EDIT_BUTTONS[plain], None)
    m = re.fullmatch(r"(?:我要|我想|请|麻烦)?(?:修改|更改|改一下|改)(?:一下)?(?P<f>.{1,8})", plain)
    if m:
        for field, words in FIELDS.items():
            if m["f"].rstrip("吧") in words:
                return Edit(field, None)
    if m := _ADD_RE.match(plain):
        return Edit("content_add", m["value"].strip())
    if m := _EDIT_RE.match(plain):
        field = next(f for f, ws in FIELDS.items() if m["field"] in ws)
        value = m["value"].strip().strip("“”\"'")
        if m["field"] in _VAGUE_FIELD_WORDS and not _EXPLICIT_CHANGE.search(plain):
            return None  # "公司是做轴承的" describes, it does not correct
        return Edit(field, value) if value else Edit(field, None)
    if m := _NOT_BUT_RE.match(plain):
        old, new = m["old"], m["value"].strip()
        table = region_table()
        if table.find(old) and table.find(new):
            return Edit("region", new)
        if find_mobile(new):
            return Edit("mobile", new)
        if extract_entities(new) and any(e.entity == "company" for e in extract_entities(new)):
            return Edit("company", new)
    return None


_LABELLED_RE = re.compile(rf"^(?P<field>{_FIELD_ALT})(?:号)?[:：\s]*(?:是|为|叫)?[:：\s]*(?P<value>.+)$")


def labelled_fields(text: str) -> dict[str, str]:
    """Details pasted in one message ("联系人孙明，手机139…，地区富阳区"): field → value."""
    found: dict[str, str] = {}
    for clause in re.split(r"[,，;；。\n]+", normalize(text or "").text):
        m = _LABELLED_RE.match(clause.strip())
        if m and m["value"].strip():
            field = next(f for f, ws in FIELDS.items() if m["field"] in ws)
            found.setdefault(field, m["value"].strip())
    return found


# -- names, companies, places --------------------------------------------------------

_SURNAMES = set(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
    "龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞"
    "左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕"
    "屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧"
    "傅占操凤虎郦竺鄂帖茆冒訾仰铁谯续蹇弓过禄汝荀步郗庹"
    "闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝官封谈匡鞠惠荆乐冀郁胥"
    "南班储原栗燕楚鄢劳谌奚皮粟冼蔺楼盘满闻位厉伊仝区郜海阚花权强帅屠豆朴盖练廉禹井祖漆巴丰支"
    "卿国狄平计索宣晋相初门云容敬来扈晁芮都普阙浦戈伏鹿薄邸雍辜羊阿乌母裘亓修邰赫杭况那宿鲜印"
    "逯隆茹诸战慕危玉银亢嵇公哈湛宾戎勾茅利於呼居揭干但尉冶斯元束檀衣信展阴昝智幸奉植衡富尧闭由")
_COMPOUND = ("欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "慕容", "令狐", "夏侯", "尉迟", "公孙",
             "长孙", "宇文", "司徒", "端木", "独孤", "南宫", "西门")
_TITLES = ("经理", "总经理", "副总", "总监", "董事长", "董事", "老总", "总", "女士", "先生", "小姐",
           "会计", "出纳", "主任", "老师", "工程师", "师傅", "书记", "厂长", "老板", "老板娘", "部长",
           "科长", "处长", "主管", "助理", "专员", "律师", "医生", "秘书", "行长", "工", "姐", "哥",
           "阿姨", "叔")
_NOT_NAMES = {"谢谢", "马上", "明天", "都行", "好的", "可以", "不用", "没有", "稍等", "等等", "你好",
              "您好", "是的", "对的", "不知道", "算了", "随便", "都可以", "没事", "没人", "不清楚",
              "同上", "一样", "老板", "领导", "本人", "我", "我自己", "自己", "是我", "周末", "时间",
              "方便", "好吧", "行吧", "应该", "不行", "不对", "你们", "他们", "高新", "向上", "常年",
              "金额", "甘心", "成本", "成立", "江山", "尤其", "万一", "安全", "高企", "和我"}
_NAME_PREFIX = re.compile(r"^(?:联系人(?:是|为|叫)?|我(?:叫|是|姓)|本人|姓名|称呼|叫我|找|免贵姓|姓)")
_NAME_SUFFIX = re.compile(r"(?:就行|就可以|即可|就好|吧|呀|啊|哈|的)+$")


def contact_name(text: str) -> str | None:
    """A person's name or surname + title (李四, 王经理, 欧阳娜娜, 小王, Tom Li), else None.

    Places, company names, codes and numbers are not names.
    """
    plain = normalize(text or "").text.strip().strip("。.!！~")
    clauses = [c for c in re.split(r"[,，;；。]+", plain) if c.strip()]
    if len(clauses) > 1:  # "我姓王，叫我王经理就行": the last clause that is a name
        return next((n for c in reversed(clauses) if (n := contact_name(c))), None)
    plain = _NAME_SUFFIX.sub("", _NAME_PREFIX.sub("", plain)).strip("：: ,，")
    if not plain or any(ch.isdigit() for ch in plain):
        return None
    if re.fullmatch(r"[A-Za-z][A-Za-z .'-]{1,29}", plain):
        return plain
    if not re.fullmatch(r"[\u4e00-\u9fff·]{1,8}", plain):
        return None
    if plain in _NOT_NAMES or region_table().get(plain) or any(
            e.entity in {"company", "region"} for e in extract_entities(plain)):
        return None
    body = plain
    if body[:1] in "老小阿" and len(body) in (2, 3) and body[1] in _SURNAMES:
        return plain
    for title in sorted(_TITLES, key=len, reverse=True):
        if body.endswith(title) and len(body) > len(title):
            head = body[: -len(title)]
            # 傅工, 占总: any one character before a title is a surname
            if head in _COMPOUND or len(head) == 1 or (len(head) <= 3 and head[0] in _SURNAMES):
                return plain
    surname_len = 2 if body[:2] in _COMPOUND else 1
    if body[:surname_len] in _SURNAMES or body[:2] in _COMPOUND:
        if 2 <= len(body) <= 3 + (surname_len - 1):
            return plain
    return None


_OWN_RE = re.compile(
    r"(?<!对方)(?<!他们)(?<!客户)(?<!房东)(?:我们公司|我们企业|我们单位|我们厂|我公司|我司|本公司|本企业|本单位|我单位|我们是|我是|"
    r"(?:^|[,，。；;\s])(?:公司|企业|单位)(?:全称|名称|名字))"
    r"(?:叫|是|为|系|名叫|全称(?:是|为)?|名称(?:是|为)|就是)?[:：\s]*(?P<name>[^，。,.!！?？\s]{2,40})")
_OWN_AFTER_RE = re.compile(
    r"(?P<name>[^，。,.!！?？\s]{4,40})(?:的)?(?:负责人|法人|老板|总经理|财务)")


#: what stands between "我们公司" and another party's name: 被/向/与/欠/的客户 …
_OTHER_PARTY = re.compile(r"被|向|与|和|跟|给|对|欠|把|在|从|找|替|为了|的")
#: "我是X公司的供应商": the user's role at another company
_OTHER_ROLE = re.compile(r"的?(?:供应商|客户|债权人|债务人|合作方|员工|职工|工人|分包|下游|上游|经销商|"
                         r"代理商|房东|租户|股东)")


def own_company(text: str) -> str | None:
    """The enterprise the user names as their own ("我们公司是…", "我司…", "我是…的负责人").

    A company the user only talks about (the bank, a guarantor, a debtor) is not theirs.
    """
    plain = normalize(text or "").text
    companies = [e for e in extract_entities(plain) if e.entity == "company"]
    for m in _OWN_RE.finditer(plain):
        start = m.start("name")
        while start < len(plain) and plain[start] in "（(“\"「『【":
            start += 1  # 本企业（浙江金瑞轴承有限公司）…
        for c in companies:
            if c.start <= start < c.end - 2 and not _OTHER_PARTY.match(plain, start) and \
                    not _OTHER_ROLE.match(plain, c.end):
                return plain[start:c.end]
    for m in _OWN_AFTER_RE.finditer(plain):
        if _OTHER_ROLE.match(plain, m.end("name")):
            continue
        for c in companies:
            if c.end in (m.end("name"), m.end("name") - 1) or (
                    c.start >= m.start("name") and c.end <= m.end("name")):
                before = plain[max(0, c.start - 3):c.start]
                if "我是" in plain[max(0, m.start() - 3):c.start + 1] or "我是" in before:
                    return c.value
    return None


def stated_regions(text: str) -> list[Region]:
    """The places the user states, outside company names, most specific first."""
    plain = normalize(text or "").text
    companies = [(e.start, e.end) for e in extract_entities(plain) if e.entity == "company"]
    found = [r for s, e, r in region_table().find(plain)
             if not any(cs <= s and e <= ce for cs, ce in companies)]
    order = {"county": 0, "city": 1, "province": 2}
    return sorted(dict.fromkeys(found), key=lambda r: order[r.level])


def region_in_company(name: str) -> Region | None:
    """The county a company name starts with or contains (a hint, never an override)."""
    counties = [r for _, _, r in region_table().find(normalize(name or "").text)
                if r.level == "county"]
    return counties[0] if counties else None


def counties_of(city: str) -> list[str]:
    return [r.name for r in region_table().regions.values()
            if r.level == "county" and r.city == city]


def more_specific(new: Region, old_name: str | None) -> bool:
    """Whether ``new`` should replace the region already known: a county always does
    (the user named it), a city only when nothing, or nothing more specific, is known."""
    if not old_name:
        return True
    old = region_table().get(old_name)
    if new.level == "county":
        return True
    return old is None or old.level != "county" or old.city != new.city


# -- several demands and long letters ------------------------------------------------

_ENUM_RE = re.compile(r"(?:^|[。；;！!？?\n，,：:\s])\s*(?:一是|二是|三是|四是|第一[，,、]?|"
                      r"第二[，,、]?|第三[，,、]?|其一|其二|其三|[1-4１-４][.、．)）]|"
                      r"[一二三四][、.．])")
_ALSO_RE = re.compile(r"(?:[。；;！!？?\n，,]|\s)\s*(?:另外|此外|还有一?个?|还有就是|同时|再就是|另一个|"
                      r"另一方面|除此之外|顺便问一下|顺便)")


_SEPARATORS = "。；;！!？?\n，,：: "


def demand_segments(text: str, enumerated_only: bool = False) -> list[str]:
    """The parts of a message that may each be a demand of its own (一是…二是…, 另外…);
    with ``enumerated_only`` (letters, where 同时/另外 join prose) only 一是…二是….."""
    plain = normalize(text or "", max_chars=5000).text
    cuts = sorted({m.start() for m in _ENUM_RE.finditer(plain)} |
                  (set() if enumerated_only else {m.start() for m in _ALSO_RE.finditer(plain)}))
    cuts = [c for c in cuts if c > 0]
    if not cuts:
        return [plain.strip()]
    first = _ENUM_RE.search(plain)
    # "现有三个困难：一是…": what comes before the first item is no demand of its own
    preamble = first is not None and first.start() > 0 and first.start() == cuts[0] and \
        re.search(r"一是|第一|其一|[1１][.、．)）]|一[、.．]", first.group()) is not None
    parts, last = [], 0
    for c in cuts:
        parts.append(plain[last:c + 1] if plain[c] in _SEPARATORS else plain[last:c])
        last = c + 1 if plain[c] in _SEPARATORS else c
    parts.append(plain[last:])
    if preamble:
        parts = parts[1:]
    return [p.strip(" ，,。；;") for p in parts if len(clean(p)) >= 6]


REQUEST_WORDS = re.compile(r"恳请|请求|希望|能否|可否|请问|请帮|帮忙|帮助|协调|解决|诉求|呼吁|盼望|"
                         r"恳求|麻烦|建议|要求|能不能|可不可以|怎么办|如何")


def sentences(text: str) -> list[str]:
    """A text's sentences, each with its closing mark (。！？；)."""
    return [s.strip() for s in re.split(r"(?<=[。！？!?；;\n])", text) if s.strip()]


def request_sentences(text: str) -> list[str]:
    """The sentences of a long message that carry its request (恳请/希望/能否…)."""
    plain = normalize(text or "", max_chars=5000).text
    return [s for s in sentences(plain) if REQUEST_WORDS.search(s)]
