/* 关键词规则: an account's rules (or the district's defaults) — trigger, match, pattern, action, parameters —
   edited in a table, checked by the server before saving (unsafe regexes refused), and a "try a message"
   box that shows which rule answers. GET/PUT/DELETE /api/v1/rules/{account}, POST …/try. */
"use strict";
(function () {
  const C = window.Console;
  const { h, field, select, api, get, post, toast, submitting, errorBox } = C;
  const TRIGGERS = { text: "文字", click: "菜单点击", event: "事件", type: "消息类型" };
  const MATCHES = { exact: "完全相同", contains: "包含", regex: "正则表达式" };

  function row(rule, data, rows) {
    const on = select("on", Object.entries(TRIGGERS), rule.on);
    const match = select("match", Object.entries(MATCHES), rule.match || "exact");
    const pattern = h("input", { name: "pattern", value: rule.pattern, "aria-label": "关键词或 key" });
    const action = select("action", data.actions.map((a) => [a, a]), rule.action);
    const params = h("input", { name: "params", value: JSON.stringify(rule.params || {}), "aria-label": "参数（JSON）" });
    on.setAttribute("aria-label", "触发方式");
    match.setAttribute("aria-label", "匹配方式");
    action.setAttribute("aria-label", "动作");
    const tr = h("tr", {},
      h("td", { "data-label": "触发" }, on), h("td", { "data-label": "匹配" }, match),
      h("td", { "data-label": "关键词" }, pattern), h("td", { "data-label": "动作" }, action),
      h("td", { "data-label": "参数" }, params),
      h("td", { "data-label": "操作" },
        h("button", { type: "button", class: "secondary", "aria-label": "上移", onclick: () => { if (tr.previousSibling) tr.parentNode.insertBefore(tr, tr.previousSibling); } }, "↑"),
        " ", h("button", { type: "button", class: "danger", "aria-label": "删除这条规则", onclick: () => tr.remove() }, "删除")));
    tr.read = () => {
      let p = {};
      try { p = JSON.parse(params.value || "{}"); } catch (e) { throw new Error(`参数不是有效的JSON：${params.value}`); }
      return { on: on.value, match: match.value, pattern: pattern.value, action: action.value, params: p };
    };
    rows.push(tr);
    return tr;
  }

  async function pageRules(r) {
    document.title = "关键词规则 · 社区工作台";
    const user = C.session.user;
    const cid = user.role === "district_admin" && r.params.get("account") === "district" ? "district"
      : (r.params.get("account") || await C.currentCommunity());
    const data = await get("/rules/" + encodeURIComponent(cid));
    const rows = [];
    const body = h("tbody", {}, data.rules.map((x) => row(x, data, rows)));
    const readAll = () => [...body.children].map((tr) => tr.read());
    const source = { own: "本账号自己的规则", district: "全区默认规则（本账号未单独设置）", default: "系统默认规则" }[data.source];
    const form = h("form", { "aria-label": "规则" },
      h("div", { class: "table-wrap" }, h("table", { class: "stack" },
        h("thead", {}, h("tr", {}, ["触发", "匹配", "关键词 / key", "动作", "参数", "操作"].map((t) => h("th", { scope: "col" }, t)))),
        body)),
      h("div", { class: "actions" },
        h("button", { type: "button", class: "secondary", onclick: () => body.append(row({ on: "text", match: "exact", pattern: "", action: "reply_text", params: { text: "" } }, data, rows)) }, "添加规则"),
        h("button", { type: "submit" }, "保存规则"),
        data.own ? h("button", { type: "button", class: "danger", onclick: async () => {
          await api("DELETE", "/rules/" + encodeURIComponent(cid)); toast("已恢复默认规则"); C.route();
        } }, "恢复默认") : null));
    submitting(form, async () => {
      const saved = await api("PUT", "/rules/" + encodeURIComponent(cid), { rules: readAll() });
      toast(saved.note);
    });

    const text = h("input", { name: "try", value: "", placeholder: "例如：报名 1" });
    const result = h("div", { role: "status", "aria-live": "polite" });
    const tryForm = h("form", { class: "card", "aria-label": "试一条消息" }, h("h2", {}, "试一条消息"),
      field("居民发来的文字", text), h("div", { class: "actions" }, h("button", { type: "submit", class: "secondary" }, "试一试")), result);
    submitting(tryForm, async () => {
      const answer = await post("/rules/" + encodeURIComponent(cid) + "/try", { kind: "text", text: text.value, rules: readAll() });
      result.replaceChildren(answer.matched
        ? h("p", {}, `第 ${answer.index} 条规则回答：动作 ${answer.action}`, answer.params && Object.keys(answer.params).length ? `，参数 ${JSON.stringify(answer.params)}` : "")
        : h("p", {}, "没有规则回答这条消息。"));
      const trs = [...body.children];
      trs.forEach((tr) => tr.classList.remove("matched"));
      if (answer.matched && trs[answer.index - 1]) trs[answer.index - 1].classList.add("matched");
    });
    const picker = user.role === "district_admin"
      ? h("p", {}, h("a", { href: "#/rules?account=district" }, "编辑全区默认规则"), " · ", h("a", { href: "#/rules" }, "编辑所选社区的规则"))
      : null;
    return [h("h1", {}, `关键词规则 · ${cid === "district" ? "全区默认" : (await C.communityDetail(cid)).name}`),
      cid === "district" ? null : await C.communityPicker(), picker,
      h("p", {}, `现在使用：${source}。规则按顺序匹配，第一条匹配的规则回答。保存后一分钟内生效。`),
      tryForm, form];
  }

  C.register("rules", pageRules, { nav: "关键词规则", needs: "role:social_worker,director,district_admin" });
})();
