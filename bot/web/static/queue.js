// A department handler's queue: accept and resolve tickets.
(function () {
  "use strict";
  const csrf = document.querySelector("meta[name=csrf]").content;
  async function act(row, action, extra) {
    const r = await fetch("/web/tickets/" + row.dataset.number + "/" + action, {
      method: "POST", headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf},
      body: JSON.stringify(Object.assign({version: Number(row.dataset.version)}, extra || {}))});
    const data = await r.json();
    if (!r.ok) { alert((data.error && data.error.message) || "操作失败"); return; }
    location.reload();
  }
  document.querySelectorAll("tr[data-number]").forEach(row => {
    const accept = row.querySelector("button.accept");
    if (accept) accept.addEventListener("click", () => act(row, "accept"));
    const resolve = row.querySelector("button.resolve");
    if (resolve) resolve.addEventListener("click", () => {
      const reply = row.querySelector("input.reply").value.trim();
      if (!reply) { alert("请填写办理结果"); return; }
      act(row, "resolve", {reply: reply});
    });
  });
})();
