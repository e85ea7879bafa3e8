// The hotline agent's console: analyse what the caller says, show the cited policy,
// similar tickets and the routing; open a ticket with one click.
(function () {
  "use strict";
  const $ = id => document.getElementById(id);
  const csrf = document.querySelector("meta[name=csrf]").content;
  const taxonomy = JSON.parse($("taxonomy").textContent);
  let analysis = null;
  const ENTITY = {region: "地区", company: "企业", amount: "金额", date: "日期", phone: "电话",
                  credit_code: "信用代码", id_number: "身份证号", ticket_number: "工单号"};
  const INTENT = {report_need: "反映诉求", ask_policy: "政策咨询", ask_ticket_status: "查询工单",
                  urge_ticket: "催办", rate_service: "评价", request_human: "转人工"};
  async function post(url, body) {
    const r = await fetch(url, {method: "POST", headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf},
                                body: JSON.stringify(body)});
    const data = await r.json();
    if (!r.ok) {
      const err = new Error((data.error && data.error.message) || "请求失败");
      err.field = data.error && data.error.field;
      throw err;
    }
    return data;
  }
  function fillDomains(selected) {
    $("domain").innerHTML = "";
    taxonomy.forEach(d => $("domain").add(new Option(d.name, d.id, false, d.id === selected)));
  }
  function fillSubtopics(domain, selected) {
    $("subtopic").innerHTML = "";
    const d = taxonomy.find(x => x.id === domain);
    (d ? d.subtopics : []).forEach(s => $("subtopic").add(new Option(s.name, s.id, false, s.id === selected)));
  }
  $("domain").addEventListener("change", () => fillSubtopics($("domain").value, null));
  function el(tag, text, cls) { const e = document.createElement(tag); if (text) e.textContent = text; if (cls) e.className = cls; return e; }
  async function analyze() {
    const text = $("text").value.trim();
    if (!text) return;
    $("busy").textContent = "分析中…";
    try {
      analysis = await post("/web/analyze", {text: text});
    } catch (e) { $("busy").textContent = e.message; return; }
    $("busy").textContent = "";
    $("result").hidden = false; $("ticket-card").hidden = false;
    const dom = analysis.domain && analysis.domain.name, sub = analysis.subtopic && analysis.subtopic.name;
    fillDomains(dom || "other"); fillSubtopics(dom || "other", sub);
    $("confidence").textContent = dom ? "置信度 " + Math.round(100 * analysis.domain.confidence) + "%" : "未识别出诉求领域，请人工选择";
    const intent = analysis.intent ? analysis.intent.name : "";
    $("intent").textContent = "对话意图：" + (INTENT[intent] || intent || "—");
    const ents = $("entities"); ents.innerHTML = "";
    (analysis.entities || []).forEach(e => ents.appendChild(el("li", (ENTITY[e.entity] || e.entity) + "：" + e.value)));
    if (!ents.children.length) ents.appendChild(el("li", "无"));
    const r = analysis.route;
    $("route").textContent = r ? r.department + "（" + {county: "县级", city: "市级", province: "省级"}[r.level] + "），首次响应 " + r.first_response_due + " 前，办结 " + r.resolution_due + " 前" + (r.needs_level ? "；按权责清单需提级" : "") : "请先确定地区";
    const kb = $("kb"); kb.innerHTML = "";
    if (!analysis.kb.length) kb.appendChild(el("p", "政策库中没有能直接回答的文件。答复来电后，可引用相近文件提交标准问答，供管理员审核。", "hint"));
    analysis.kb.forEach(h => {
      const box = el("div", null, "kb-hit");
      box.appendChild(el("strong", h.title + (h.expired ? "（已到期）" : "")));
      box.appendChild(el("p", h.section + "：" + h.answer));
      box.appendChild(el("p", [h.doc_no, h.issuer, h.date].filter(Boolean).join("，"), "cite"));
      const copy = el("button", "复制答复"); copy.type = "button"; copy.className = "copy";
      copy.addEventListener("click", () => { navigator.clipboard.writeText(h.reply).catch(() => {}); copy.textContent = "已复制"; });
      box.appendChild(copy); box.appendChild(proposeButton(h, h.answer)); kb.appendChild(box);
    });
    (analysis.kb_candidates || []).forEach(h => {
      const box = el("div", null, "kb-hit candidate");
      box.appendChild(el("strong", "相近文件：" + h.title));
      box.appendChild(el("p", h.section + "：" + h.answer));
      box.appendChild(proposeButton(h, "")); kb.appendChild(box);
    });
    const sim = $("similar"); sim.innerHTML = "";
    if (!analysis.similar.length) sim.appendChild(el("p", "暂无同类已办结工单。", "hint"));
    analysis.similar.forEach(t => sim.appendChild(el("p", t.number + "（" + t.region + "，" + t.department + "）：" + t.text + (t.reply ? " → 办理结果：" + t.reply : ""))));
    const find = name => (analysis.entities.find(e => e.entity === name) || {}).value || "";
    $("company").value = find("company"); $("credit_code").value = find("credit_code");
    $("region").value = analysis.region || ""; $("mobile").value = find("phone");
  }
  // a standard question (标准问答) for the knowledge base: question, answer, cited section
  function proposeButton(hit, answer) {
    const button = el("button", "提交为标准问答"); button.type = "button"; button.className = "propose";
    button.addEventListener("click", () => {
      const form = el("form", null, "faq-form");
      const q = el("textarea"); q.name = "question"; q.value = $("text").value.trim().slice(0, 200);
      const a = el("textarea"); a.name = "answer"; a.value = answer; a.placeholder = "答案（写明依据中的具体条件、标准或时限）";
      const send = el("button", "提交审核"); send.type = "submit";
      const status = el("span", "", "hint");
      form.append(el("label", "标准问题"), q, el("label", "答案（引用《" + hit.title + "》“" + hit.section + "”）"), a, send, status);
      form.addEventListener("submit", async e => {
        e.preventDefault();
        try {
          await post("/web/faq", {question: q.value, answer: a.value, doc_id: hit.doc_id, section: hit.section});
          status.textContent = "已提交，待管理员审核。"; send.disabled = true;
        } catch (err) { status.textContent = err.message; }
      });
      button.replaceWith(form);
    });
    return button;
  }
  $("analyze").addEventListener("click", analyze);
  $("text").addEventListener("keydown", e => { if (e.key === "Enter" && e.ctrlKey) analyze(); });
  document.addEventListener("keydown", e => { if (e.altKey && e.key === "s") { e.preventDefault(); $("ticket").requestSubmit(); } });
  // a field the server named as wrong is marked, with the message beside it
  function clearFieldErrors() {
    document.querySelectorAll("#ticket [aria-invalid]").forEach(i => i.removeAttribute("aria-invalid"));
    document.querySelectorAll("#ticket .field-error").forEach(p => p.remove());
  }
  function markField(field, message) {
    const input = $(field === "subtopic" ? "subtopic" : field);
    if (!input || !$("ticket").contains(input)) return false;
    input.setAttribute("aria-invalid", "true");
    const note = el("span", message, "field-error"); note.id = field + "-error"; note.setAttribute("role", "alert");
    input.setAttribute("aria-describedby", note.id);
    input.insertAdjacentElement("afterend", note);
    input.focus();
    return true;
  }
  $("ticket").addEventListener("input", e => {
    if (e.target.getAttribute("aria-invalid")) { e.target.removeAttribute("aria-invalid"); const n = $(e.target.id + "-error"); if (n) n.remove(); }
  });
  $("ticket").addEventListener("submit", async e => {
    e.preventDefault();
    if (!analysis) return;
    clearFieldErrors();
    try {
      const data = await post("/web/tickets", {
        text: analysis.text, intent: analysis.intent && analysis.intent.name,
        domain: $("domain").value, subtopic: $("subtopic").value,
        predicted_domain: analysis.domain && analysis.domain.name, predicted_subtopic: analysis.subtopic && analysis.subtopic.name,
        company: $("company").value, credit_code: $("credit_code").value, region: $("region").value,
        contact: $("contact").value, mobile: $("mobile").value});
      const t = data.ticket;
      $("ticket-result").textContent = (data.duplicate ? "已并入30天内同类工单 " : "已登记工单 ") + t.number + "，承办部门：" + t.department;
    } catch (err) {
      $("ticket-result").textContent = "未能登记：" + err.message;
      if (err.field) markField(err.field, err.message);
    }
  });
})();
