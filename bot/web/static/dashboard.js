// Demand statistics: filters → /web/stats; bars, a trend chart (SVG) and a heat map drawn
// here, with no chart library; every table downloadable as CSV / XLSX; the knowledge
// base's standard questions to approve and documents to review.
(function () {
  "use strict";
  const $ = id => document.getElementById(id);
  const csrf = document.querySelector("meta[name=csrf]").content;
  const today = new Date(Date.now() + 8 * 3600 * 1000).toISOString().slice(0, 10);
  const monthAgo = new Date(Date.now() + 8 * 3600 * 1000 - 29 * 86400 * 1000).toISOString().slice(0, 10);
  $("start").value = monthAgo; $("end").value = today;
  let labels = {domains: {}, subtopics: {}};
  const name = (kind, key) => (labels[kind] && labels[kind][key]) || key;
  function params() {
    const p = new URLSearchParams({start: $("start").value, end: $("end").value, period: $("period").value});
    if ($("region").value) p.set("region", $("region").value);
    if ($("domain").value) p.set("domain", $("domain").value);
    return p;
  }
  function el(tag, text, cls) { const e = document.createElement(tag); if (text !== undefined && text !== null) e.textContent = text; if (cls) e.className = cls; return e; }
  function bars(target, rows, kind) {
    const box = $(target); box.innerHTML = "";
    if (!rows.length) { box.appendChild(el("p", "暂无数据", "hint")); return; }
    const max = Math.max(...rows.map(r => r.count));
    rows.forEach(r => {
      const line = el("div", null, "bar");
      line.appendChild(el("span", kind ? name(kind, r.key) : r.key, "label"));
      const fill = el("span", null, "fill"); fill.style.width = (100 * r.count / max * 0.6) + "%";
      line.appendChild(fill); line.appendChild(el("span", String(r.count), "count"));
      box.appendChild(line);
    });
  }
  function table(target, rows, columns, headers) {
    const box = $(target); box.innerHTML = "";
    if (!rows.length) { box.appendChild(el("p", "暂无数据", "hint")); return; }
    const t = el("table", null, "data"), head = el("tr");
    headers.forEach(h => head.appendChild(el("th", h)));
    t.appendChild(el("thead")).appendChild(head);
    const body = el("tbody");
    rows.forEach(r => { const tr = el("tr"); columns.forEach(c => tr.appendChild(el("td", r[c]))); body.appendChild(tr); });
    t.appendChild(body); box.appendChild(t);
  }
  function trend(rows) {
    const box = $("trend"); box.innerHTML = "";
    const periods = [...new Set(rows.map(r => r.period))].sort();
    if (!periods.length) { box.appendChild(el("p", "暂无数据", "hint")); return; }
    const totals = periods.map(p => rows.filter(r => r.period === p).reduce((s, r) => s + r.count, 0));
    const W = 600, H = 200, pad = 30, max = Math.max(...totals, 1);
    const ns = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", `0 0 ${W} ${H + 20}`); svg.setAttribute("class", "trend");
    const x = i => pad + (periods.length === 1 ? (W - 2 * pad) / 2 : i * (W - 2 * pad) / (periods.length - 1));
    const y = v => H - pad + 10 - v / max * (H - 2 * pad);
    const line = document.createElementNS(ns, "polyline");
    line.setAttribute("points", totals.map((v, i) => `${x(i)},${y(v)}`).join(" "));
    line.setAttribute("fill", "none"); line.setAttribute("stroke", "#c62828"); line.setAttribute("stroke-width", "2");
    svg.appendChild(line);
    totals.forEach((v, i) => {
      const dot = document.createElementNS(ns, "circle");
      dot.setAttribute("cx", x(i)); dot.setAttribute("cy", y(v)); dot.setAttribute("r", 3); dot.setAttribute("fill", "#c62828");
      const title = document.createElementNS(ns, "title"); title.textContent = `${periods[i]}：${v}`; dot.appendChild(title);
      svg.appendChild(dot);
    });
    [0, periods.length - 1].forEach(i => {
      const t = document.createElementNS(ns, "text");
      t.setAttribute("x", x(i)); t.setAttribute("y", H + 15); t.setAttribute("font-size", "11");
      t.setAttribute("text-anchor", i ? "end" : "start"); t.textContent = periods[i]; svg.appendChild(t);
    });
    box.appendChild(svg);
    box.appendChild(el("p", `峰值 ${max} 件；合计 ${totals.reduce((a, b) => a + b, 0)} 件`, "hint"));
  }
  function heatmap(rows) {
    const box = $("heatmap"); box.innerHTML = "";
    if (!rows.length) { box.appendChild(el("p", "暂无数据", "hint")); return; }
    const regions = [...new Set(rows.map(r => r.region))].sort(), domains = [...new Set(rows.map(r => r.domain))].sort();
    const max = Math.max(...rows.map(r => r.count));
    const t = el("table", null, "data heat"), head = el("tr");
    head.appendChild(el("th", "地区＼领域"));
    domains.forEach(d => head.appendChild(el("th", name("domains", d))));
    t.appendChild(head);
    regions.forEach(reg => {
      const tr = el("tr"); tr.appendChild(el("th", reg));
      domains.forEach(d => {
        const n = (rows.find(r => r.region === reg && r.domain === d) || {count: 0}).count;
        const td = el("td", n ? String(n) : "");
        td.style.background = n ? `rgba(198, 40, 40, ${0.12 + 0.88 * n / max})` : "";
        if (n / max > 0.55) td.style.color = "#fff";
        tr.appendChild(td);
      });
      t.appendChild(tr);
    });
    box.appendChild(t);
  }
  function loop(c) {
    const pct = v => v === null || v === undefined ? "—" : Math.round(v * 1000) / 10 + "%";
    const facts = [["登记工单", c.tickets], ["按时响应率", pct(c.on_time_response_rate)], ["已办结", c.resolved],
                   ["按时办结率", pct(c.on_time_resolution_rate)], ["平均办理时长（小时）", c.average_handling_hours ?? "—"],
                   ["超期未办结", c.overdue], ["提级办理", c.escalated], ["重新办理率", pct(c.reopen_rate)],
                   ["平均满意度（1-5）", c.average_rating ?? "—"]];
    const dl = $("loop"); dl.innerHTML = "";
    facts.forEach(([k, v]) => { dl.appendChild(el("dt", k)); dl.appendChild(el("dd", String(v))); });
    bars("satisfaction", [5, 4, 3, 2, 1].map(k => ({key: k + "分", count: c.satisfaction[k] || 0})));
  }
  function proactive(figures) {
    const dl = $("proactive"); dl.innerHTML = "";
    Object.entries(labels.proactive).forEach(([key, title]) => {
      let v = figures[key];
      if (key === "followup_response_rate") v = v === null ? "—" : Math.round(v * 1000) / 10 + "%";
      dl.appendChild(el("dt", title)); dl.appendChild(el("dd", String(v === null ? "—" : v)));
    });
  }
  async function load() {
    const r = await fetch("/web/stats?" + params());
    const data = await r.json();
    if (!r.ok) { alert((data.error && data.error.message) || "查询失败"); return; }
    labels = data.labels;
    loop(data.closed_loop); trend(data.trend); heatmap(data.heatmap);
    proactive(data.proactive);
    bars("domains", data.domains, "domains"); bars("subtopics", data.subtopics, "subtopics");
    bars("regions", data.regions); bars("channels", data.channels, "channels");
    bars("phrases", data.phrases.map(p => ({key: p.phrase, count: p.count})));
    table("gaps", data.gaps, ["question", "count", "last"], ["问题", "次数", "最近"]);
    table("escalated", data.escalated.map(r => Object.assign({}, r, {subtopic: name("subtopics", r.subtopic)})),
          ["number", "at", "region", "subtopic", "to", "reason"],
          ["工单号", "时间", "地区", "子类", "提交至", "原因"]);
    await commons();
    await reviewsList();
    await knowledge();
    document.body.dataset.loaded = "1";
  }
  // common problems: one card per group, a button that reports it one level up
  function reported(r) {
    return el("p", `已上报：工单 ${r.number} · ${r.department || "未分派"}（${r.level_name}）· ${r.status_name}`, "reported");
  }
  async function commons() {
    const box = $("commons"); box.innerHTML = "";
    const r = await fetch("/web/commons?" + params());
    const groups = r.ok ? (await r.json()).groups : [];
    if (!groups.length) { box.appendChild(el("p", "所选期间暂无多家企业反映的共性问题。", "hint")); return; }
    groups.forEach(g => {
      const item = el("div", null, "common-problem"); item.dataset.key = g.key;
      item.appendChild(el("strong", `${g.label} · ${g.regions.join("、")}`));
      item.appendChild(el("p", `${g.enterprises}家企业 · ${g.count}条诉求 · ${g.first} 至 ${g.last}`, "counts"));
      item.appendChild(el("p", "按周：" + g.trend.map(t => `${t.week.slice(5)}起 ${t.count}条`).join("，"), "hint"));
      item.appendChild(el("p", "企业：" + g.enterprise_names.join("、"), "hint"));
      const list = el("ul", null, "samples");
      g.samples.forEach(s => list.appendChild(el("li", `${s.day} ${s.region} ${s.enterprise}：${s.text}`)));
      item.appendChild(list);
      // the grouping is a proposal: every demand listed, ticked; untick what is not this problem
      const check = el("details", null, "members");
      check.appendChild(el("summary", `逐条核对全部${g.demands.length}条诉求（取消勾选不属于同一问题的）`));
      g.demands.forEach(d => {
        const label = el("label", null, "member");
        const box = el("input"); box.type = "checkbox"; box.checked = true; box.value = d.number;
        label.appendChild(box);
        label.appendChild(document.createTextNode(` ${d.day} ${d.region} ${d.enterprise}：${d.text}`));
        check.appendChild(label);
      });
      if (!g.report) item.appendChild(check);
      const said = el("p", null, "error"); said.setAttribute("role", "alert");
      if (g.report) {
        item.appendChild(reported(g.report));
      } else {
        const b = el("button", "上报上级（堵点上报）", "primary"); b.type = "button";
        b.addEventListener("click", async () => {
          b.disabled = true;
          const members = [...check.querySelectorAll("input:checked")].map(x => x.value);
          const r = await fetch("/web/commons/report", {method: "POST",
            headers: {"X-CSRF-Token": csrf, "Content-Type": "application/json"},
            body: JSON.stringify({members})});
          const data = await r.json();
          if (!r.ok) { b.disabled = false; said.textContent = (data.error && data.error.message) || "上报失败"; return; }
          said.textContent = ""; check.remove();
          const t = data.report;
          b.replaceWith(el("p", data.message, "reported"));
          item.dataset.report = t.number;
        });
        item.appendChild(b);
        item.appendChild(said);
      }
      box.appendChild(item);
    });
  }
  // low ratings waiting for the centre's review: the facts and a conclusion to record
  async function reviewsList() {
    const box = $("reviews"); box.innerHTML = "";
    const r = await fetch("/web/reviews");
    const rows = r.ok ? (await r.json()).reviews : [];
    if (!rows.length) { box.appendChild(el("p", "暂无待复核的低评分工单。", "hint")); return; }
    rows.forEach(v => {
      const item = el("div", null, "review"); item.dataset.number = v.number;
      item.appendChild(el("strong", `工单 ${v.number} · ${v.rating}分 · ${v.department || "未分派"} · ${v.subtopic}`));
      item.appendChild(el("p", "企业意见：" + (v.comment || "—")));
      item.appendChild(el("p", "办理结果：" + (v.reply || "—"), "hint"));
      item.appendChild(el("p", "诉求：" + v.text, "hint"));
      const id = "review-" + v.number;
      const label = el("label", "复核意见（必填）"); label.htmlFor = id;
      const text = el("textarea"); text.id = id; text.rows = 2; text.maxLength = 1000;
      const b = el("button", "提交复核意见"); b.type = "button";
      const said = el("p", null, "error"); said.setAttribute("role", "alert");
      b.addEventListener("click", async () => {
        const r = await fetch(`/web/reviews/${encodeURIComponent(v.number)}`, {method: "POST",
          headers: {"X-CSRF-Token": csrf, "Content-Type": "application/json"},
          body: JSON.stringify({conclusion: text.value})});
        const data = await r.json();
        if (!r.ok) { said.textContent = (data.error && data.error.message) || "提交失败"; return; }
        item.replaceWith(el("p", data.message, "reported"));
      });
      [label, text, b, said].forEach(x => item.appendChild(x));
      box.appendChild(item);
    });
  }
  // 通过 / 驳回 buttons of an item awaiting review: POST base/action, then a line saying so
  function decisions(item, base, actions, done) {
    actions.forEach(action => {
      const b = el("button", action === actions[0] ? "通过" : "驳回"); b.type = "button";
      b.addEventListener("click", async () => {
        const r = await fetch(`${base}/${action}`, {method: "POST", headers: {"X-CSRF-Token": csrf}});
        const data = await r.json();
        if (!r.ok) { alert((data.error && data.error.message) || "操作失败"); return; }
        item.replaceWith(el("p", done(action === actions[0]), "hint"));
      });
      item.appendChild(b);
    });
  }
  // the knowledge base's editors: standard questions to approve, documents to review
  async function knowledge() {
    const [faq, review] = await Promise.all([fetch("/web/faq"), fetch("/web/kb/review")]);
    const box = $("faq"); box.innerHTML = "";
    const proposals = faq.ok ? (await faq.json()).proposals : [];
    if (!proposals.length) box.appendChild(el("p", "暂无待审核的建议。", "hint"));
    proposals.forEach(p => {
      const item = el("div", null, "faq-proposal");
      item.appendChild(el("strong", p.question));
      item.appendChild(el("p", p.answer));
      item.appendChild(el("p", "依据：" + p.doc_id + "“" + p.section + "”；提交人：" + p.proposed_by, "cite"));
      decisions(item, `/web/faq/${p.id}`, ["approve", "reject"],
                yes => (yes ? "已通过并加入政策库：" : "已驳回：") + p.question);
      box.appendChild(item);
    });
    await correctionsList();
    const docs = review.ok ? (await review.json()).documents : [];
    table("review", docs, ["doc_id", "title", "reason_text", "detail"], ["文件", "标题", "问题", "日期/取代文件"]);
  }
  // corrections of the recognised category: accept (training data) or reject
  async function correctionsList() {
    const r = await fetch("/web/corrections");
    const box = $("corrections"); box.innerHTML = "";
    const rows = r.ok ? (await r.json()).corrections : [];
    if (!rows.length) box.appendChild(el("p", "暂无待审核的纠正。", "hint"));
    rows.forEach(c => {
      const item = el("div", null, "correction");
      item.appendChild(el("strong", c.text));
      item.appendChild(el("p", "识别为：" + (c.predicted || "未识别") + " → 改为：" + c.chosen, "cite"));
      item.appendChild(el("p", (c.source === "user" ? "用户（" + c.by + "）" : "坐席 " + c.by) + " · " + c.at.slice(0, 16).replace("T", " "), "hint"));
      decisions(item, `/web/corrections/${c.id}`, ["accept", "reject"],
                yes => (yes ? "已通过：" : "已驳回：") + c.text);
      box.appendChild(item);
    });
  }
  $("filters").addEventListener("submit", e => { e.preventDefault(); load(); });
  document.querySelectorAll("a.export").forEach(a => a.addEventListener("click", e => {
    e.preventDefault();
    location.href = `/web/export/${a.dataset.table}.${a.dataset.format}?` + params();
  }));
  load();
})();
