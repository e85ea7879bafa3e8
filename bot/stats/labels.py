"""Chinese names for the codes the statistics and exports carry (domains, sub-topics,
channels, statuses, levels) and for the export columns: what an administrator reads in
a chart or a spreadsheet is 金融服务 and 网页咨询, never ``finance`` or ``rest``."""

from __future__ import annotations

from typing import Any

from bot.taxonomy import taxonomy

CHANNEL_NAMES = {"rest": "网页咨询", "wechat": "微信公众号", "wecom": "企业微信",
                 "hotline": "热线坐席", "api": "部门接口", "cmdline": "命令行测试",
                 "blockage": "堵点上报"}
LEVEL_NAMES = {"county": "县级", "city": "市级", "province": "省级"}
#: short status names for tables (the enterprise is told the longer STATUS_NAMES)
STATUS_SHORT = {"submitted": "已提交", "assigned": "已分派", "in_progress": "办理中",
                "resolved": "已办结", "rated": "已评价", "closed": "已关闭",
                "escalated": "已提级", "returned": "已退回", "reopened": "重新办理"}
COLUMN_NAMES = {
    "count": "数量", "period": "时间", "domain": "领域", "subtopic": "子类", "region": "地区",
    "phrase": "高频词", "question": "问题", "last": "最近一次", "number": "工单号",
    "at": "提级时间", "to": "提级至", "level": "层级", "by": "操作人", "reason": "原因",
    "text": "诉求内容", "created": "登记时间", "status": "状态", "department": "承办部门",
    "enterprise": "企业", "contact": "联系人", "mobile": "手机", "channel": "渠道",
    "figure": "指标", "value": "数值", "label": "问题类别", "regions": "涉及地区",
    "enterprises": "企业数", "first": "最早", "report": "堵点上报工单",
    "report_status": "上报办理状态", "sample": "诉求示例"}
#: what the ``key`` column of a count table holds
KEY_COLUMNS = {"domains": "domain", "subtopics": "subtopic", "regions": "region",
               "channels": "channel"}


def level_label(department: str | None, level: str) -> str:
    """Where a ticket is, as staff read it: 衢州市营商环境建设办公室（市级）."""
    return f"{department or '未分派'}（{LEVEL_NAMES.get(level, level)}）"


def value_names() -> dict[str, dict[str, str]]:
    """Code → Chinese name, by column."""
    tax = taxonomy()
    return {"domain": {d: tax.domains[d].name for d in tax.domains},
            "subtopic": {s: tax.subtopics[s].name for s in tax.subtopics},
            "channel": CHANNEL_NAMES, "level": LEVEL_NAMES,
            "status": STATUS_SHORT}


def labelled(rows: list[dict[str, Any]], table: str) -> list[dict[str, Any]]:
    """``rows`` with the codes in them replaced by their Chinese names."""
    names = value_names()
    key = KEY_COLUMNS.get(table)
    out = []
    for r in rows:
        row = dict(r)
        for column, value in r.items():
            kind = key if column == "key" else column
            if kind in names and isinstance(value, str):
                row[column] = names[kind].get(value, value)
        out.append(row)
    return out


def headers(columns: list[str], table: str) -> list[str]:
    key = COLUMN_NAMES.get(KEY_COLUMNS.get(table, ""), "项目")
    return [key if c == "key" else COLUMN_NAMES.get(c, c) for c in columns]
