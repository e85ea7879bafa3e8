"""The enterprise's own profile in the chat (企业档案): see it ("我的信息"), delete it (after
a confirmation), stop or restart policy notices ("退订" / "订阅"), complete it with the
answers to the policy-matching questions ("完善企业信息", or accepting the offer after "帮我
匹配政策" — or declining it). A chat user speaks for
the enterprises whose tickets it opened (bot/proactive/profiles.py); every read and change
is audited there with the sender as the actor."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError

from actions.backend import database_call, sender_key, ticket_backend
from bot.kb.matching import Profile
from bot.proactive.profiles import EnterpriseProfile, ProfileStore

logger = logging.getLogger(__name__)

NONE_KEPT = ("目前平台没有保存贵企业的信息。通过本平台登记诉求并填写统一社会信用代码后，"
             "平台会据此建立企业档案，用于向您推送符合条件的惠企政策。")
UNAVAILABLE = "抱歉，企业信息暂时无法读取，请稍后再试；紧急事项请拨打 12345 政务服务热线。"


def masked_code(code: str) -> str:
    return f"{code[:6]}********{code[-4:]}"


async def profiles_of(tracker: Tracker) -> list[EnterpriseProfile] | None:
    """The profiles this chat user speaks for; None when the database is unreachable."""
    store = ProfileStore(ticket_backend().engine)
    try:
        return await database_call(store.of_sender, sender_key(tracker), sender_key(tracker))
    except SQLAlchemyError as err:
        logger.warning("Profiles not read: %s", type(err).__name__)
        return None


async def change_each(tracker: Tracker, change: Callable[[ProfileStore, EnterpriseProfile, str],
                                                          Any]) -> list[tuple[str, Any]] | None:
    """``change(store, profile, actor)`` for every profile this user speaks for: (name,
    result) of each; None when the database is unreachable."""
    store = ProfileStore(ticket_backend().engine)
    me = sender_key(tracker)
    try:
        found = await database_call(store.of_sender, me, me)
        return [(p.name, await database_call(change, store, p, me)) for p in found]
    except SQLAlchemyError as err:
        logger.warning("Profile not changed: %s", type(err).__name__)
        return None


async def profiles_or_say_why(dispatcher: CollectingDispatcher,
                              tracker: Tracker) -> list[EnterpriseProfile]:
    """The profiles this user speaks for; when there are none (or the database is down)
    the user is told so and the list is empty."""
    found = await profiles_of(tracker)
    if not found:
        dispatcher.utter_message(text=UNAVAILABLE if found is None else NONE_KEPT)
    return found or []


class ActionShowProfile(Action):
    def name(self) -> str:
        return "action_show_profile"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        found = await profiles_or_say_why(dispatcher, tracker)
        if not found:
            return []
        for p in found:
            lines = [line if not line.startswith("统一社会信用代码") else
                     f"统一社会信用代码：{masked_code(p.credit_code)}" for line in p.lines()]
            dispatcher.utter_message(text="平台保存的贵企业信息如下（仅用于匹配和推送惠企政策）：\n"
                                          + "\n".join(lines))
        subscribed = any(p.subscribed for p in found)
        dispatcher.utter_message(
            text="如需删除以上信息，请回复“删除我的信息”；"
                 + ("不想再接收政策推送请回复“退订”。" if subscribed
                    else "想重新接收政策推送请回复“订阅”。"),
            buttons=[{"title": "删除我的信息", "payload": "/delete_profile"},
                     {"title": "退订政策推送", "payload": "/unsubscribe"} if subscribed else
                     {"title": "订阅政策推送", "payload": "/subscribe"}])
        return []


class ActionAskDeleteProfile(Action):
    def name(self) -> str:
        return "action_ask_delete_profile"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        found = await profiles_or_say_why(dispatcher, tracker)
        if not found:
            return [SlotSet("profile_delete_pending", False)]
        names = "、".join(p.name for p in found)
        dispatcher.utter_message(
            text=f"确认删除平台保存的{names}的企业信息吗？删除后将不再向您推送政策；"
                 "已登记的诉求工单不受影响，仍会继续办理。",
            buttons=[{"title": "确认删除", "payload": "/affirm"},
                     {"title": "不删除", "payload": "/deny"}])
        return [SlotSet("profile_delete_pending", True)]


class ActionDeleteProfile(Action):
    def name(self) -> str:
        return "action_delete_profile"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        done = await change_each(tracker, lambda store, p, me: store.delete(p.credit_code, me))
        if done is None:
            dispatcher.utter_message(text="抱歉，删除暂时没有成功，信息未作任何改动，请稍后再试。")
            return [SlotSet("profile_delete_pending", False)]
        deleted = [name for name, gone in done if gone]
        dispatcher.utter_message(
            text=f"已删除{'、'.join(deleted)}的企业信息，今后不再向您推送政策。" if deleted
            else NONE_KEPT)
        return [SlotSet("profile_delete_pending", False)]


class ActionKeepProfile(Action):
    def name(self) -> str:
        return "action_keep_profile"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        dispatcher.utter_message(text="好的，不删除，企业信息保留不变。")
        return [SlotSet("profile_delete_pending", False)]


class ActionUnsubscribe(Action):
    """"退订" (and, as ActionSubscribe, "订阅") for every enterprise the user speaks for."""

    subscribed = False

    def name(self) -> str:
        return "action_unsubscribe"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        found = await change_each(tracker, lambda store, p, me: store.set_subscribed(
            p.credit_code, me, self.subscribed))
        if found is None:
            dispatcher.utter_message(text="抱歉，设置暂时没有成功，请稍后再试。")
            return []
        if not found:
            dispatcher.utter_message(text=NONE_KEPT)
        elif self.subscribed:
            dispatcher.utter_message(text="已订阅政策推送：有符合贵企业条件的新政策时，会在这里告诉您"
                                          "（每周最多几条）。回复“退订”可随时停止。")
        else:
            dispatcher.utter_message(text="已退订，今后不再向您推送政策消息。诉求工单的办理进度仍会照常"
                                          "通知。想重新接收，回复“订阅”即可。")
        return []


class ActionSubscribe(ActionUnsubscribe):
    subscribed = True

    def name(self) -> str:
        return "action_subscribe"


# -- completing the profile: after policy matching ("完善企业信息" or "帮我匹配政策") ----------
def matched_facts(profile: Profile) -> dict[str, Any]:
    """What the matching questions gave, as the profile stores it (unknowns left out)."""
    values: dict[str, Any] = {}
    if profile.region:
        values["region"] = profile.region
    if profile.size:
        values["size"] = profile.size
    if profile.qualifications:
        values["qualifications"] = sorted(profile.qualifications)
    if profile.rd_expense:
        values["rd_expense"] = profile.rd_expense
    return values


def asked_to_complete(tracker: Tracker) -> bool:
    """Whether the matching questions were started by "完善企业信息" (not "匹配政策")."""
    for e in reversed(tracker.events):
        intent = (e.get("parse_data") or {}).get("intent", {}).get("name") \
            if e.get("event") == "user" else None
        if intent in ("complete_profile", "match_policy"):
            return intent == "complete_profile"
    return False


async def after_matching(dispatcher: CollectingDispatcher, tracker: Tracker,
                         profile: Profile) -> list[EventType]:
    """Save what the enterprise just told (it asked to), or offer to (it asked for
    policies): the profile is then matched against every new policy."""
    values = matched_facts(profile)
    found = await profiles_of(tracker)
    if not values or found is None:
        return [SlotSet("profile_save_pending", False)]
    if not found:
        if asked_to_complete(tracker):
            dispatcher.utter_message(text="贵企业在本平台还没有档案：企业档案按统一社会信用代码建立，"
                                          "登记诉求时填写信用代码后即会建立，届时可以再完善。")
        return [SlotSet("profile_save_pending", False)]
    if asked_to_complete(tracker):
        return await save_profile(dispatcher, tracker, values)
    dispatcher.utter_message(
        text="需要把以上企业情况保存到贵企业档案吗？保存后，有符合条件的新政策会主动告诉您"
             "（每周最多几条，可随时退订）。",
        buttons=[{"title": "保存", "payload": "/affirm"}, {"title": "不用了", "payload": "/deny"}])
    return [SlotSet("profile_save_pending", True),
            SlotSet("profile_draft", values)]


async def save_profile(dispatcher: CollectingDispatcher, tracker: Tracker,
                       values: dict[str, Any]) -> list[EventType]:
    store = ProfileStore(ticket_backend().engine)
    me = sender_key(tracker)
    try:
        found = await database_call(store.of_sender, me, me)
        saved = [await database_call(store.update, p.credit_code, me, values, True)
                 for p in found[:1]]  # the enterprise of the latest ticket
    except (SQLAlchemyError, ValueError) as err:
        logger.warning("Profile not saved: %s", err)
        dispatcher.utter_message(text="抱歉，企业信息暂时没有保存成功，请稍后再试。")
        return [SlotSet("profile_save_pending", False), SlotSet("profile_draft", None)]
    if saved:
        dispatcher.utter_message(text="已保存到贵企业档案：\n" + "\n".join(saved[0].lines()[2:])
                                      + "\n有符合条件的新政策时会主动告诉您；"
                                        "回复“我的信息”可查看或删除。")
    return [SlotSet("profile_save_pending", False), SlotSet("profile_draft", None)]


class ActionSaveProfile(Action):
    def name(self) -> str:
        return "action_save_profile"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        return await save_profile(dispatcher, tracker, tracker.get_slot("profile_draft") or {})


class ActionDeclineProfile(Action):
    def name(self) -> str:
        return "action_decline_profile"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        await change_each(tracker, lambda store, p, me: store.decline(p.credit_code, me))
        dispatcher.utter_message(text="好的，不保存。需要时回复“完善企业信息”即可。")
        return [SlotSet("profile_save_pending", False), SlotSet("profile_draft", None)]
