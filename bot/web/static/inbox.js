// The staff inbox in the console: conversations handed over to a person, refreshed every
// 5 seconds; the agent reads the history, replies (the user gets it on their own
// channel) and hands the conversation back to the assistant.
(function () {
  "use strict";
  const $ = id => document.getElementById(id);
  const csrf = document.querySelector("meta[name=csrf]").content;
  const WHO = {user: "企业", bot: "智能助手", staff: "人工客服"};
  let waiting = [], selected = null;

  function el(tag, text, cls) { const e = document.createElement(tag); if (text) e.textContent = text; if (cls) e.className = cls; return e; }
  function show(tab) {
    const inbox = tab === "inbox";
    $("call").hidden = inbox; $("inbox").hidden = !inbox;
    $("tab-call").setAttribute("aria-selected", String(!inbox));
    $("tab-inbox").setAttribute("aria-selected", String(inbox));
    if (inbox) refresh();
  }
  $("tab-call").addEventListener("click", () => show("call"));
  $("tab-inbox").addEventListener("click", () => show("inbox"));

  async function post(url, body) {
    const r = await fetch(url, {method: "POST", headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf},
                                body: JSON.stringify(body || {})});
    const data = await r.json();
    if (!r.ok) throw new Error((data.error && data.error.message) || "操作失败，请重试。");
    return data;
  }
  function renderList(data) {
    waiting = data.handoffs || [];
    const count = $("inbox-count");
    count.textContent = String(waiting.length);
    count.className = waiting.length ? "badge waiting" : "badge";
    $("inbox-hours").textContent = data.working_hours ? "" : "现在是非工作时间：企业已被告知工作人员的回复时间。";
    const list = $("inbox-list"); list.innerHTML = "";
    if (!waiting.length) list.appendChild(el("li", "目前没有等待人工的会话。", "hint"));
    waiting.forEach(h => {
      const b = el("button");
      b.type = "button"; b.dataset.id = h.id;
      if (h.id === selected) b.setAttribute("aria-current", "true");
      b.append(el("strong", (h.enterprise.company || "未留企业名称") + "（" + h.channel + "）"),
               el("br"), el("span", "已等待 " + h.waiting_minutes + " 分钟：" + h.text.slice(0, 40), "hint"));
      b.addEventListener("click", () => { selected = h.id; renderList(data); });
      list.appendChild(el("li")).appendChild(b);
    });
    renderThread(waiting.find(h => h.id === selected) || null);
  }
  function renderThread(h) {
    $("reply-form").hidden = !h;
    const facts = $("thread-enterprise"); facts.innerHTML = "";
    const log = $("thread-log"); log.innerHTML = "";
    if (!h) { $("thread-title").textContent = waiting.length ? "请选择左侧的会话" : "暂无会话"; return; }
    $("thread-title").textContent = (h.enterprise.company || "企业") + " · " + h.channel + (h.number ? " · 工单 " + h.number : "");
    [["联系人", h.enterprise.contact_name], ["手机", h.enterprise.mobile], ["地区", h.enterprise.region]]
      .forEach(([k, v]) => { if (v) facts.append(el("dt", k), el("dd", v)); });
    h.messages.forEach(m => {
      const div = el("div", null, "msg " + m.who);
      div.append(el("span", WHO[m.who] || m.who, "who"), document.createTextNode(m.text));
      log.appendChild(div);
    });
    log.scrollTop = log.scrollHeight;
  }
  async function refresh() {
    try {
      const r = await fetch("/web/handoffs");
      if (r.ok) renderList(await r.json());
    } catch (e) { /* offline for a moment: the next refresh catches up */ }
  }
  $("reply-form").addEventListener("submit", async e => {
    e.preventDefault();
    const text = $("reply-text").value.trim();
    if (!text || selected === null) { $("reply-status").textContent = "请输入回复内容。"; return; }
    $("reply-status").textContent = "发送中…";
    try {
      const data = await post("/web/handoffs/" + selected + "/reply", {text: text});
      $("reply-text").value = "";
      $("reply-status").textContent = data.delivered ? "已发送。" : "已保存，但平台暂未送达（可能超过48小时互动时限），请电话联系。";
      refresh();
    } catch (err) { $("reply-status").textContent = err.message; }
  });
  $("reply-text").addEventListener("keydown", e => { if (e.key === "Enter" && e.ctrlKey) $("reply-form").requestSubmit(); });
  $("handback").addEventListener("click", async () => {
    if (selected === null) return;
    try {
      await post("/web/handoffs/" + selected + "/close");
      $("reply-status").textContent = "已交还智能助手，并告知企业。";
      selected = null; refresh();
    } catch (err) { $("reply-status").textContent = err.message; }
  });
  refresh();
  setInterval(refresh, 5000);
})();
