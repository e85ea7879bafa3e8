// A department handler's queue: accept, resolve, return and escalate tickets in place.
(function () {
  "use strict";
  const csrf = document.querySelector("meta[name=csrf]").content;
  // the text each action needs: the field and the message when it is empty
  const TEXTS = {resolve: ["reply", "请填写办理结果。"], return: ["reason", "请填写退回原因。"],
                 escalate: ["reason", "请填写提级原因。"]};

  function show(card, error, done) {
    card.querySelector(".ticket-error").textContent = error || "";
    card.querySelector(".ticket-done").textContent = done || "";
  }

  function update(card, c) {
    card.dataset.version = c.version;
    const status = card.querySelector(".status");
    status.textContent = c.status_name;
    status.className = "status status-" + c.status;
    card.querySelector(".department").textContent = c.department;
    card.querySelector(".due").textContent = c.due;
    card.querySelector(".overdue-mark").hidden = !c.overdue;
    card.classList.toggle("is-overdue", c.overdue);
    const to = card.querySelector(".escalate-to");
    if (to) to.textContent = c.escalate_to || "上一级";
    card.querySelectorAll(".act[data-action]").forEach(block => {
      block.hidden = !c.actions.includes(block.dataset.action);
    });
    card.querySelectorAll(".reason-form").forEach(form => close(form, false));
    card.classList.toggle("is-done", c.actions.length === 0);
  }

  // POST the action; true when it succeeded (the card is updated), else the error shown
  async function act(card, action, extra, control) {
    show(card, "", "");
    control.disabled = true;
    card.setAttribute("aria-busy", "true");
    let r, data = {};
    try {
      r = await fetch("/web/tickets/" + encodeURIComponent(card.dataset.number) + "/" + action, {
        method: "POST", credentials: "same-origin",
        headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf},
        body: JSON.stringify(Object.assign({version: Number(card.dataset.version)}, extra))});
      data = await r.json().catch(() => ({}));
    } catch (e) {
      show(card, "网络连接失败，请检查网络后重试。");
      return false;
    } finally {
      control.disabled = false;
      card.removeAttribute("aria-busy");
    }
    if (!r.ok) {
      show(card, (data.error && data.error.message) || "操作失败，请刷新页面后重试。");
      return false;
    }
    update(card, data.card);
    show(card, "", data.message || "操作成功。");
    return true;
  }

  function open(form) {
    form.hidden = false;
    form.parentElement.querySelector("button.toggle").setAttribute("aria-expanded", "true");
    form.querySelector("textarea").focus();
  }

  function close(form, focus) {
    form.hidden = true;
    const toggle = form.parentElement.querySelector("button.toggle");
    toggle.setAttribute("aria-expanded", "false");
    if (focus) toggle.focus();
  }

  // after a change the pressed control may be gone: focus what comes next
  function refocus(card) {
    const next = card.querySelector(".reply-form:not([hidden]) textarea");
    (next || card.querySelector("h2")).focus();
  }

  document.querySelectorAll("li.ticket[data-number]").forEach(card => {
    card.querySelector("button.accept").addEventListener("click", async ev => {
      if (await act(card, "accept", {}, ev.currentTarget)) refocus(card);
    });
    card.querySelectorAll("button.toggle").forEach(toggle => {
      toggle.addEventListener("click", () => {
        const form = document.getElementById(toggle.getAttribute("aria-controls"));
        if (form.hidden) {
          card.querySelectorAll(".reason-form").forEach(f => { if (f !== form) close(f, false); });
          open(form);
        } else {
          close(form, true);
        }
      });
    });
    card.querySelectorAll("button.cancel").forEach(cancel => {
      cancel.addEventListener("click", () => close(cancel.closest("form"), true));
    });
    card.querySelectorAll("form[data-submit]").forEach(form => {
      const area = form.querySelector("textarea");
      form.addEventListener("submit", async ev => {
        ev.preventDefault();
        const action = form.dataset.submit;
        const [field, missing] = TEXTS[action];
        const text = area.value.trim();
        if (!text) {
          area.setAttribute("aria-invalid", "true");
          show(card, missing);
          area.focus();
          return;
        }
        area.removeAttribute("aria-invalid");
        const extra = {};
        extra[field] = text;
        if (await act(card, action, extra, form.querySelector("button[type=submit]"))) {
          area.value = "";
          refocus(card);
        }
      });
      area.addEventListener("input", () => area.removeAttribute("aria-invalid"));
      area.addEventListener("keydown", ev => {  // Ctrl+Enter sends, Escape closes
        if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) {
          ev.preventDefault();
          form.requestSubmit();
        } else if (ev.key === "Escape" && form.classList.contains("reason-form")) {
          close(form, true);
        }
      });
    });
  });
})();
