// The enterprise web chat: the REST channel through /chat/send; buttons as quick replies;
// ticket numbers as links to the status page. The conversation is kept in the tab's
// sessionStorage, so it is still there after a visit to the status page.
(function () {
  "use strict";
  const log = document.getElementById("log");
  const form = document.getElementById("send");
  const input = document.getElementById("message");
  let sender = sessionStorage.getItem("govbot-sender");
  if (!sender) {
    sender = Array.from(crypto.getRandomValues(new Uint8Array(12)), b => b.toString(16).padStart(2, "0")).join("");
    sessionStorage.setItem("govbot-sender", sender);
  }
  function linkify(node, text) {
    const pattern = /[A-Z]{2}-\d{8}-\d{4}/g;
    let last = 0, m;
    while ((m = pattern.exec(text)) !== null) {
      node.appendChild(document.createTextNode(text.slice(last, m.index)));
      const a = document.createElement("a");
      a.href = "/status/" + m[0]; a.textContent = m[0]; a.className = "ticket-link";
      node.appendChild(a);
      last = m.index + m[0].length;
    }
    node.appendChild(document.createTextNode(text.slice(last)));
  }
  const saved = JSON.parse(sessionStorage.getItem("govbot-log") || "[]");
  function remember(who, text, buttons) {
    saved.push({who: who, text: text || "", buttons: buttons || []});
    sessionStorage.setItem("govbot-log", JSON.stringify(saved.slice(-200)));
  }
  // while staff have the conversation, their replies are fetched more often
  let handedOver = sessionStorage.getItem("govbot-staff") === "1";
  function notice(text) {
    if (/已为您转接人工服务|已转给人工服务/.test(text)) handedOver = true;
    if (/智能助手继续为您服务/.test(text)) handedOver = false;
    sessionStorage.setItem("govbot-staff", handedOver ? "1" : "0");
  }
  function show(who, text, buttons, replayed) {
    if (!replayed) { remember(who, text, buttons); if (who === "bot") notice(text || ""); }
    const div = document.createElement("div");
    div.className = "msg " + who;
    linkify(div, text || "");
    if (buttons && buttons.length) {
      const box = document.createElement("div");
      box.className = "buttons";
      buttons.forEach(b => {
        const btn = document.createElement("button");
        btn.type = "button"; btn.textContent = b.title;
        btn.addEventListener("click", () => { box.remove(); send(b.payload, b.title); });
        box.appendChild(btn);
      });
      div.appendChild(box);
    }
    log.appendChild(div);
    log.scrollTop = log.scrollHeight;
  }
  async function send(message, shown) {
    show("user", shown || message);
    try {
      const r = await fetch("/chat/send", {method: "POST", headers: {"Content-Type": "application/json"},
                                           body: JSON.stringify({sender: sender, message: message})});
      const replies = await r.json();
      (Array.isArray(replies) ? replies : [{text: replies.error}]).forEach(m => show("bot", m.text, m.buttons));
    } catch (e) {
      show("bot", "网络异常，请稍后重试。");
    }
  }
  form.addEventListener("submit", e => {
    e.preventDefault();
    const text = input.value.trim();
    if (text) { input.value = ""; send(text); }
  });
  input.addEventListener("keydown", e => {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); form.requestSubmit(); }
  });
  if (saved.length) {  // back from the status page: the conversation as it was
    saved.forEach((m, i) => show(m.who, m.text, i === saved.length - 1 ? m.buttons : [], true));
  } else {
    show("bot", "您好！我是企业服务智能助手。请直接描述企业遇到的问题或想咨询的政策。");
  }
  // ticket notifications (accepted, resolved — with the rating buttons) and staff replies
  // arrive later: every 10 s, every 3 s while staff have the conversation
  let after = Number(sessionStorage.getItem("govbot-after")) || Date.now() / 1000;
  let last = 0;
  setInterval(async () => {
    if (Date.now() - last < (handedOver ? 3000 : 10000)) return;
    last = Date.now();
    try {
      const r = await fetch("/chat/updates?" + new URLSearchParams({sender: sender, after: after}));
      const data = await r.json();
      (data.messages || []).forEach(m => show("bot", m.text, m.buttons));
      if (data.after) { after = data.after; sessionStorage.setItem("govbot-after", String(after)); }
    } catch (e) { /* offline for a moment: the next poll catches up */ }
  }, 1000);
})();
