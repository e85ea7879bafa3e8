// The enterprise web chat: the REST channel through /chat/send; buttons as quick replies;
// ticket numbers as links to the status page.
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
  function show(who, text, buttons) {
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
  show("bot", "您好！我是企业服务智能助手。请直接描述企业遇到的问题或想咨询的政策。");
  // ticket notifications (accepted, resolved — with the rating buttons) arrive later
  let after = Date.now() / 1000;
  setInterval(async () => {
    try {
      const r = await fetch("/chat/updates?" + new URLSearchParams({sender: sender, after: after}));
      const data = await r.json();
      (data.messages || []).forEach(m => show("bot", m.text, m.buttons));
      if (data.after) after = data.after;
    } catch (e) { /* offline for a moment: the next poll catches up */ }
  }, 10000);
})();
