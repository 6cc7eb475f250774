/* 社区工作台: a small single-page app over the platform's JSON API (same origin, Bearer token in
   sessionStorage). Pages are hash routes: #/login #/home #/inbox #/requests/<number> #/canteen #/accounts
   #/audit. Everything is built with DOM calls (never HTML strings), so what residents write stays text. */
"use strict";

(function () {
  const API = document.querySelector('meta[name="api-base"]').content;
  const BASE = document.querySelector('meta[name="console-base"]').content;
  const KEY = { token: "console.token", user: "console.user", community: "console.community", large: "console.large" };
  // Vocabularies come from the platform (`chalicelib/domain/vocabulary.py`, served as /console/vocabulary.js).
  const V = window.VOCABULARY;
  const STATES = V.states;
  const OPEN_STATES = V.open_states;
  const CATEGORIES = V.categories;
  const ACTIONS = V.actions;
  const ROLES = { ...V.roles, ...V.actor_kinds };
  const FLAGS = V.flags;
  const BUTTONS = { cancel: "取消纸条", reject: ACTIONS.reject, reopen: ACTIONS.reopen };
  const MEALS = V.meals;
  const MARKS = ["软烂", "少盐", "少油", "少糖", "清淡", "少刺", "素食", "含坚果"];
  const COMMUNITY_ROLES = ["social_worker", "director", "subdistrict_reviewer", "district_admin"];
  const main = document.getElementById("main");
  let uid = 0;

  // ---- small helpers ------------------------------------------------------------------------------

  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
      else if (k === "class") el.className = v;
      else if (k === "text") el.textContent = v;
      else el.setAttribute(k, v === true ? "" : String(v));
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return el;
  }
  const id = (prefix) => `${prefix}-${++uid}`;

  /** A labelled control: the label's `for` names the control's id. */
  function field(labelText, control, hint) {
    control.id = control.id || id("f");
    const parts = [h("label", { for: control.id }, labelText), control];
    if (hint) {
      const hid = id("hint");
      control.setAttribute("aria-describedby", hid);
      parts.push(h("p", { class: "hint", id: hid }, hint));
    }
    return h("div", {}, parts);
  }
  function select(name, options, value) {
    const el = h("select", { name });
    for (const [v, label] of options) el.append(h("option", { value: v, selected: v === value }, label));
    return el;
  }

  const shanghai = new Intl.DateTimeFormat("zh-CN", {
    timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit",
    hour12: false,
  });
  const fmt = (iso) => (iso ? shanghai.format(new Date(iso)) : "—");
  function today(offsetDays) {
    const d = new Date(Date.now() + (offsetDays || 0) * 86400000);
    return new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Shanghai" }).format(d);  // YYYY-MM-DD
  }
  function addDays(day, n) {
    const d = new Date(day + "T00:00:00Z");
    d.setUTCDate(d.getUTCDate() + n);
    return d.toISOString().slice(0, 10);
  }
  const yuan = (fen) => (fen / 100).toFixed(2).replace(/\.00$/, "") + "元";
  const stateBadge = (state, name) => h("span", { class: "badge " + state }, name || STATES[state] || state);

  function toast(message) {
    const t = document.getElementById("toast");
    t.textContent = message;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(() => { t.textContent = ""; }, 6000);
  }
  function errorBox(message) {
    return h("p", { class: "error", role: "alert" }, message);
  }

  // ---- session and API ----------------------------------------------------------------------------

  const session = {
    get token() { return sessionStorage.getItem(KEY.token); },
    get user() { try { return JSON.parse(sessionStorage.getItem(KEY.user)); } catch (e) { return null; } },
    save(token, user) { sessionStorage.setItem(KEY.token, token); sessionStorage.setItem(KEY.user, JSON.stringify(user)); },
    clear() { for (const k of [KEY.token, KEY.user, KEY.community]) sessionStorage.removeItem(k); },
  };

  class ApiError extends Error {
    constructor(status, body) {
      super((body && body.message) || `请求失败（${status}）`);
      this.status = status;
      this.code = body && body.code;
    }
  }

  async function api(method, path, body, raw) {
    const headers = { Accept: "application/json" };
    if (session.token) headers.Authorization = "Bearer " + session.token;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let answer;
    try {
      answer = await fetch(API + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (e) {
      throw new ApiError(0, { message: "无法连接服务器，请检查网络后重试" });
    }
    if (answer.status === 401 && !path.startsWith("/auth/login")) {
      session.clear();
      go("login", "登录已过期，请重新登录");
      throw new ApiError(401, { message: "登录已过期，请重新登录" });
    }
    if (raw && answer.ok) return answer;
    let data = null;
    try { data = await answer.json(); } catch (e) { data = null; }
    if (!answer.ok) throw new ApiError(answer.status, data);
    return data;
  }
  const get = (path) => api("GET", path);
  const post = (path, body) => api("POST", path, body || {});
  const qs = (params) => {
    const p = Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== "");
    return p.length ? "?" + p.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join("&") : "";
  };

  /** Run a form's work with its button disabled; show what went wrong next to the form. */
  function submitting(form, work) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const buttons = form.querySelectorAll("button");
      const old = form.querySelector(".error");
      if (old) old.remove();
      buttons.forEach((b) => { b.disabled = true; });
      try {
        await work(event.submitter || null);
      } catch (e) {
        if (e.status !== 401) {
          const box = errorBox(e.message);
          form.append(box);
        }
      } finally {
        buttons.forEach((b) => { b.disabled = false; });
      }
    });
    return form;
  }

  // ---- community context --------------------------------------------------------------------------

  let communityCache = null;
  async function communities() {
    if (!communityCache) communityCache = (await get("/communities")).items;
    return communityCache;
  }
  /** The community the pages work on: the user's own, or the one picked (district and subdistrict staff). */
  async function currentCommunity() {
    const user = session.user;
    if (user.scope.community_id) return user.scope.community_id;
    const picked = sessionStorage.getItem(KEY.community);
    const list = await communities();
    if (picked && list.some((c) => c.id === picked)) return picked;
    return list.length ? list[0].id : null;
  }
  const detailCache = {};
  async function communityDetail(cid) {
    if (!detailCache[cid]) detailCache[cid] = await get("/communities/" + encodeURIComponent(cid));
    return detailCache[cid];
  }
  /** For staff over several communities: a labelled picker that reloads the page on change. */
  async function communityPicker() {
    const user = session.user;
    if (user.scope.community_id) return null;
    const list = await communities();
    if (list.length < 2) return null;
    const current = await currentCommunity();
    const sel = select("community", list.map((c) => [c.id, c.name]), current);
    sel.addEventListener("change", () => { sessionStorage.setItem(KEY.community, sel.value); route(); });
    return h("div", { class: "row" }, field("社区", sel));
  }
  const isCommunityRole = () => COMMUNITY_ROLES.includes(session.user.role);

  // ---- router -------------------------------------------------------------------------------------

  const PAGES = {
    login: pageLogin, home: pageHome, inbox: pageInbox, requests: pageRequest, canteen: pageCanteen,
    accounts: pageAccounts, audit: pageAudit,
  };

  function parseHash() {
    let hash = location.hash.startsWith("#/") ? location.hash.slice(2) : "";
    if (!hash) {  // /console/inbox (a bookmark) opens the inbox
      const tail = location.pathname.slice(location.pathname.indexOf("/console") + "/console".length).replace(/^\//, "");
      hash = PAGES[tail] ? tail : "home";
    }
    const [path, query] = hash.split("?");
    const parts = path.split("/").map(decodeURIComponent);
    return { page: parts[0] || "home", arg: parts[1], params: new URLSearchParams(query || "") };
  }

  function go(page, message) {
    if (message) sessionStorage.setItem("console.flash", message);
    if (location.hash === "#/" + page) route();
    else location.hash = "#/" + page;
  }

  async function route() {
    const r = parseHash();
    if (!location.hash.startsWith("#/") && location.hash !== "#main") {
      history.replaceState(null, "", BASE + "#/" + r.page);
    }
    const user = session.user;
    if (!session.token || !user) r.page = "login";
    else if (user.must_change_password && PAGES.password) r.page = "password";  // a one-time password: change it first
    else if (r.page === "login") r.page = "home";
    const page = PAGES[r.page] || pageHome;
    renderChrome(r.page);
    main.replaceChildren(h("p", { "aria-busy": "true" }, "正在加载……"));
    try {
      const content = await page(r);
      main.replaceChildren(...[].concat(content).filter((c) => c !== null && c !== undefined));
    } catch (e) {
      if (e.status === 401) return;
      main.replaceChildren(h("h1", { tabindex: "-1" }, "出错了"), errorBox(e.message));
    }
    const flash = sessionStorage.getItem("console.flash");
    if (flash) { sessionStorage.removeItem("console.flash"); toast(flash); }
    const heading = main.querySelector("h1");
    if (heading && route.moved) { heading.setAttribute("tabindex", "-1"); heading.focus(); }
    route.moved = true;
  }

  function renderChrome(page) {
    const user = session.token && session.user;
    const nav = document.getElementById("nav");
    const who = document.getElementById("who");
    const logout = document.getElementById("logout");
    nav.hidden = !user || page === "login";
    logout.hidden = !user || page === "login";
    who.textContent = user && page !== "login" ? `${user.display_name}（${user.role_name}）` : "";
    if (!user) return;
    for (const li of nav.querySelectorAll("li[data-needs]")) {
      const need = li.dataset.needs;
      li.hidden = (need === "community" && !isCommunityRole()) ||
        (need === "audit" && !["social_worker", "director", "subdistrict_reviewer", "district_admin"].includes(user.role)) ||
        (need.startsWith("role:") && !need.slice(5).split(",").includes(user.role));
    }
    for (const a of nav.querySelectorAll("a")) {
      const current = a.dataset.page === page || (page === "requests" && a.dataset.page === "inbox");
      if (current) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
    }
  }

  // ---- pages --------------------------------------------------------------------------------------

  function pageLogin() {
    document.title = "登录 · 社区工作台";
    const username = h("input", { name: "username", autocomplete: "username", required: true, autocapitalize: "off", spellcheck: "false" });
    const password = h("input", { name: "password", type: "password", autocomplete: "current-password", required: true });
    const form = h("form", { class: "login", novalidate: false },
      field("账号", username, "例如 sw.xianggang-huayuan"), field("密码", password),
      h("div", { class: "actions" }, h("button", { type: "submit" }, "登录")));
    submitting(form, async () => {
      const data = await api("POST", "/auth/login", { username: username.value.trim(), password: password.value });
      session.save(data.token, data.user);
      communityCache = null;
      go("home");
    });
    const flash = sessionStorage.getItem("console.flash");
    if (flash) sessionStorage.removeItem("console.flash");
    return [h("h1", {}, "工作人员登录"), flash ? h("p", { class: "error", role: "alert" }, flash) : null, form,
      h("p", { class: "hint" }, "请勿在公用电脑上保存密码。关闭浏览器标签页即退出登录。")];
  }

  function requestCard(r, teams) {
    const team = teams && r.team_id ? (teams.find((t) => t.id === r.team_id) || {}).name : null;
    const overdue = r.due_at && OPEN_STATES.includes(r.state) && new Date(r.due_at) < new Date();
    return h("li", { class: "card" },
      h("a", { class: "title", href: "#/requests/" + encodeURIComponent(r.number) }, `${r.number} · ${r.category_name || CATEGORIES[r.category] || ""}`),
      " ", stateBadge(r.state, r.state_name), overdue ? [" ", h("span", { class: "badge overdue" }, "已超时")] : null,
      flagBadges(r.flags),
      h("p", {}, r.text.length > 80 ? r.text.slice(0, 80) + "……" : r.text),
      h("p", { class: "meta" }, `提交于 ${fmt(r.created_at)}`, r.due_at ? ` · 应办结 ${fmt(r.due_at)}` : "",
        team ? ` · ${team}` : "", r.department_id ? ` · 部门 ${r.department_id}` : ""));
  }
  /** What staff must act on (逾时, 名额已满, 待补地址 …), filed with the request. */
  const flagBadges = (flags) => (flags || []).map((f) => [" ", h("span", { class: "badge flag" }, FLAGS[f] || f)]);
  const cards = (items, teams, empty) =>
    items.length ? h("ul", { class: "cards" }, items.map((r) => requestCard(r, teams))) : h("p", {}, empty || "暂无。");

  async function pageHome() {
    const user = session.user;
    document.title = "首页 · 社区工作台";
    if (!isCommunityRole() && PAGES.workhome) return PAGES.workhome(parseHash());  // pages/workhome.js
    if (!isCommunityRole()) {  // a service team or a department: what is routed to them
      const [open, mine] = await Promise.all([get("/requests" + qs({ limit: 50 })), get("/requests/overdue")]);
      const active = open.items.filter((r) => OPEN_STATES.includes(r.state));
      return [h("h1", {}, `${user.display_name}，您好`),
        h("h2", {}, `待办的纸条（${active.length}）`), cards(active, null, "没有待办的纸条。"),
        h("h2", {}, `已超时（${mine.items.length}）`), cards(mine.items, null, "没有超时的纸条。")];
    }
    const cid = await currentCommunity();
    if (!cid) return [h("h1", {}, "首页"), h("p", {}, "您的账号没有可管理的社区。")];
    const [detail, counts, overdue] = await Promise.all([
      communityDetail(cid), get(`/communities/${encodeURIComponent(cid)}/request-counts`),
      get("/requests/overdue" + qs({ community: cid }))]);
    const out = [h("h1", {}, `${detail.name} · 工作台`)];
    const picker = await communityPicker();
    if (picker) out.push(picker);
    const c = counts.counts || {};
    const openTotal = OPEN_STATES.reduce((n, s) => n + (c[s] || 0), 0);
    out.push(h("h2", {}, `未办结的便民纸条（${openTotal}）`),
      h("ul", { class: "counts" }, OPEN_STATES.map((s) => h("li", {},
        h("a", { href: "#/inbox?state=" + s }, h("b", {}, String(c[s] || 0)), STATES[s])))),
      h("p", { class: "meta" }, "已办结 ", String(c.done || 0), " · 已评价 ", String(c.closed || 0),
        " · 未受理 ", String(c.rejected || 0), " · 已取消 ", String(c.cancelled || 0)));
    out.push(h("h2", {}, `已超时（${overdue.items.length}）`), cards(overdue.items, detail.teams, "没有超时的纸条。"));
    if (detail.canteens.length) {
      out.push(h("h2", {}, `今日送餐（${today()}）`));
      for (const k of detail.canteens) {
        const parts = [];
        for (const meal of ["lunch", "dinner"]) {
          const rows = (await get(`/canteens/${encodeURIComponent(k.id)}/deliveries` + qs({ date: today(), meal }))).items;
          const portions = rows.reduce((n, r) => n + (r.portions || 0), 0);
          parts.push(h("li", {}, `${MEALS[meal]}：${rows.length} 单，${portions} 份`,
            rows.filter((r) => !["done", "closed", "cancelled"].includes(r.state)).length
              ? `（未送达 ${rows.filter((r) => !["done", "closed", "cancelled"].includes(r.state)).length} 单）` : ""));
        }
        out.push(h("h3", {}, k.name), h("ul", {}, parts),
          h("p", {}, h("a", { href: "#/canteen?canteen=" + encodeURIComponent(k.id) }, `查看 ${k.name} 的送餐单和菜单`)));
      }
    }
    return out;
  }

  async function pageInbox(r) {
    document.title = "便民纸条 · 社区工作台";
    const params = r.params;
    const community = isCommunityRole() ? await currentCommunity() : null;
    const detail = community ? await communityDetail(community) : null;
    const state = select("state", [["", "全部状态"], ...Object.entries(STATES)], params.get("state") || "");
    const category = select("category", [["", "全部类别"], ...Object.entries(CATEGORIES)], params.get("category") || "");
    const teamOptions = detail ? [["", "全部队伍"], ...detail.teams.map((t) => [t.id, t.name])] : null;
    const team = teamOptions ? select("team", teamOptions, params.get("team") || "") : null;
    const filter = h("form", { role: "search", "aria-label": "筛选纸条" },
      h("div", { class: "row" }, field("状态", state), field("类别", category), team ? field("服务队", team) : null,
        h("div", { class: "narrow" }, h("button", { type: "submit" }, "筛选"))));
    filter.addEventListener("submit", (e) => {
      e.preventDefault();
      location.hash = "#/inbox" + qs({ state: state.value, category: category.value, team: team && team.value });
    });
    const list = h("div", {});
    const more = h("button", { type: "button", class: "secondary", hidden: true }, "加载更多");
    let cursor = null;
    async function load() {
      more.disabled = true;
      try {
        const page = await get("/requests" + qs({ community, state: params.get("state"), category: params.get("category"),
          team: params.get("team"), limit: 20, cursor }));
        if (!cursor) list.replaceChildren(cards(page.items, detail && detail.teams, "没有符合条件的纸条。"));
        else list.querySelector("ul").append(...page.items.map((x) => requestCard(x, detail && detail.teams)));
        cursor = page.cursor;
        more.hidden = !cursor;
      } catch (e) {
        if (e.status !== 401) list.append(errorBox(e.message));
      } finally {
        more.disabled = false;
      }
    }
    more.addEventListener("click", load);
    await load();
    const picker = await communityPicker();
    return [h("h1", {}, detail ? `便民纸条 · ${detail.name}` : "便民纸条"), picker, filter, list, h("div", { class: "actions" }, more)];
  }

  async function pageRequest(r) {
    const number = r.arg;
    const req = await get("/requests/" + encodeURIComponent(number));
    document.title = `纸条 ${req.number} · 社区工作台`;
    let detail = null;
    if (isCommunityRole()) {
      try { detail = await communityDetail(req.community_id); } catch (e) { detail = null; }
    }
    const teams = detail ? detail.teams : [];
    const teamName = (tid) => (teams.find((t) => t.id === tid) || {}).name || tid;
    const reload = async (message) => { delete detailCache[req.community_id]; toast(message); await route(); };

    const facts = h("dl", { class: "facts" },
      h("dt", {}, "状态"), h("dd", {}, stateBadge(req.state, req.state_name), flagBadges(req.flags)),
      h("dt", {}, "类别"), h("dd", {}, req.category_name),
      h("dt", {}, "社区"), h("dd", {}, detail ? detail.name : req.community_id),
      h("dt", {}, "派给"), h("dd", { id: "assigned-to" }, req.team_id ? teamName(req.team_id) : (req.department_id ? `部门 ${req.department_id}` : "未派单")),
      h("dt", {}, "网格"), h("dd", {}, req.grid || "—"),
      h("dt", {}, "渠道"), h("dd", {}, (V.channels || {})[req.channel] || req.channel || "—"),
      h("dt", {}, "提交时间"), h("dd", {}, fmt(req.created_at)),
      h("dt", {}, "应办结"), h("dd", {}, fmt(req.due_at), req.escalation ? `（已提醒 ${req.escalation} 次）` : ""),
      req.rating ? [h("dt", {}, "居民评价"), h("dd", {}, `${req.rating} 星 ${req.rating_comment || ""}`)] : null);

    const d = req.details || {};
    const details = Object.keys(d).length ? [h("h2", {}, "送餐信息"), h("dl", { class: "facts" },
      d.day ? [h("dt", {}, "日期"), h("dd", {}, d.day)] : null,
      d.meal ? [h("dt", {}, "餐次"), h("dd", {}, MEALS[d.meal] || d.meal)] : null,
      d.portions ? [h("dt", {}, "份数"), h("dd", {}, String(d.portions))] : null,
      d.dishes && d.dishes.length ? [h("dt", {}, "菜品"), h("dd", {}, d.dishes.join("、"))] : null)] : [];
    const c = req.contact || {};
    const contact = [h("h2", {}, "联系人"), (c.name || c.phone || c.address) ? h("dl", { class: "facts" },
      h("dt", {}, "姓名"), h("dd", {}, c.name || "—"), h("dt", {}, "电话"), h("dd", {}, c.phone || "—"),
      h("dt", {}, "地址"), h("dd", {}, c.address || "—")) : h("p", {}, "居民没有留下联系方式。")];

    // what staff may do now: the actions the API lists (the resident's 评价 is not staff's)
    const actions = (req.actions || []).filter((a) => a !== "rate");
    const work = [h("h2", {}, "办理")];
    if (actions.includes("assign") && teams.length) {
      const team = select("team_id", teams.map((t) => [t.id, `${t.name}（${t.kind_name}）`]), req.team_id || teams[0].id);
      const note = h("input", { name: "note", maxlength: 500 });
      work.push(submitting(h("form", { "aria-label": "派单" }, field("派给服务队", team), field("派单说明（可选）", note),
        h("div", { class: "actions" }, h("button", { type: "submit", id: "assign" }, "派单"))), async () => {
        await post(`/requests/${encodeURIComponent(req.number)}/transitions`, { action: "assign", team_id: team.value, note: note.value || undefined });
        await reload(`已派给 ${teamName(team.value)}，已通知居民`);
      }));
    }
    const others = actions.filter((a) => a !== "assign");
    if (others.length) {
      const note = h("textarea", { name: "note", maxlength: 500, rows: 2 });
      const form = h("form", { "aria-label": "改变状态" }, field("处理说明（可选，会告诉居民）", note),
        h("div", { class: "actions" }, others.map((a) => h("button", {
          type: "submit", value: a, class: ["reject", "cancel"].includes(a) ? "danger" : (a === "complete" ? "" : "secondary"),
        }, BUTTONS[a] || ACTIONS[a] || a))));
      work.push(submitting(form, async (button) => {
        const action = button ? button.value : others[0];
        if (["reject", "cancel"].includes(action) && !window.confirm(`确定要“${ACTIONS[action]}”纸条 ${req.number} 吗？`)) return;
        await post(`/requests/${encodeURIComponent(req.number)}/transitions`, { action, note: note.value || undefined });
        await reload(`纸条 ${req.number}：${ACTIONS[action]}`);
      }));
    }
    if (!actions.length) work.push(h("p", {}, "这张纸条现在没有可做的操作。"));

    const noteText = h("textarea", { name: "note", maxlength: 500, rows: 2, required: true });
    work.push(h("h2", {}, "内部备注"), submitting(h("form", { "aria-label": "添加备注" },
      field("备注（只有工作人员看得到）", noteText),
      h("div", { class: "actions" }, h("button", { type: "submit", class: "secondary" }, "添加备注"))), async () => {
      if (!noteText.value.trim()) throw new ApiError(400, { message: "请先填写备注" });
      await post(`/requests/${encodeURIComponent(req.number)}/notes`, { note: noteText.value.trim() });
      await reload("备注已添加");
    }));
    if (isCommunityRole() && session.user.role !== "subdistrict_reviewer" && actions.length) {
      const cat = select("category", Object.entries(CATEGORIES), req.category);
      work.push(submitting(h("form", { "aria-label": "更改类别" }, h("div", { class: "row" }, field("更改类别", cat),
        h("div", { class: "narrow" }, h("button", { type: "submit", class: "secondary" }, "更改")))), async () => {
        await post(`/requests/${encodeURIComponent(req.number)}/category`, { category: cat.value });
        await reload(`已改为“${CATEGORIES[cat.value]}”`);
      }));
    }

    const timeline = h("ol", { class: "timeline" }, (req.timeline || []).map((e) => h("li", {},
      h("strong", {}, ACTIONS[e.action] || e.action), " ",
      e.to_state && e.to_state !== e.from_state ? stateBadge(e.to_state) : null,
      h("br"), h("span", { class: "meta" }, `${fmt(e.at)} · ${e.actor_name || e.actor || "居民"}`, !e.actor_name && e.actor_role ? `（${ROLES[e.actor_role] || e.actor_role}）` : ""),
      e.fields && e.fields.team_id ? h("div", {}, `服务队：${teamName(e.fields.team_id)}`) : null,
      e.note ? h("div", {}, e.note) : null)));

    return [h("p", {}, h("a", { href: "#/inbox" }, "← 返回纸条列表")),
      h("h1", {}, `纸条 ${req.number}`),
      h("div", { class: "two" },
        h("div", {}, h("h2", {}, "居民的留言"), h("p", { class: "text" }, req.text), facts, details, contact),
        h("div", {}, work, h("h2", {}, "经过"), timeline))];
  }

  // ---- canteen: a week of menus, editing one day, copying a week, the delivery list ----------------

  async function pageCanteen(r) {
    document.title = "食堂 · 社区工作台";
    const cid = await currentCommunity();
    const detail = await communityDetail(cid);
    const picker = await communityPicker();
    if (!detail.canteens.length) return [h("h1", {}, "食堂"), picker, h("p", {}, `${detail.name}没有登记食堂。`)];
    const canteenId = r.params.get("canteen") && detail.canteens.some((k) => k.id === r.params.get("canteen"))
      ? r.params.get("canteen") : detail.canteens[0].id;
    const out = [h("h1", {}, "食堂 · 菜单和送餐"), picker];
    if (detail.canteens.length > 1) {
      const sel = select("canteen", detail.canteens.map((k) => [k.id, k.name]), canteenId);
      sel.addEventListener("change", () => { location.hash = "#/canteen?canteen=" + encodeURIComponent(sel.value); });
      out.push(field("食堂", sel));
    }
    const path = `/canteens/${encodeURIComponent(canteenId)}`;
    out.push(await deliveriesSection(path, r.params));
    const week = await get(path + "/menus");
    out.push(h("h2", {}, `${week.canteen.name} · 未来七天的菜单`));
    const editor = h("div", { id: "menu-editor" });
    const days = h("ul", { class: "cards" });
    for (const m of week.menus) {
      const meals = Object.keys(MEALS).filter((k) => m.meals[k]).map((k) => h("div", { class: "menu-day" },
        h("h3", {}, MEALS[k]), h("ul", {}, (m.meals[k].dishes || []).map((dish) => h("li", {},
          `${dish.name} ${yuan(dish.price_fen)}`, dish.marks && dish.marks.length ? `（${dish.marks.join("、")}）` : "")))));
      days.append(h("li", { class: "card" }, h("strong", {}, m.date), " ",
        m.published ? h("span", { class: "badge done" }, "已发布") : h("span", { class: "badge" }, "未发布"),
        meals.length ? meals : h("p", {}, "没有已发布的菜单。"),
        h("div", { class: "actions" }, h("button", { type: "button", class: "secondary", onclick: () => {
          editor.replaceChildren(menuEditor(path, m, () => route()));
          editor.querySelector("input, select").focus();
        } }, `编辑 ${m.date} 的菜单`))));
    }
    out.push(editor, days);

    const from = h("input", { type: "date", name: "from", value: addDays(today(), -7), required: true });
    const to = h("input", { type: "date", name: "to", value: today(), required: true });
    const publish = h("input", { type: "checkbox", name: "publish", id: id("pub") });
    out.push(h("h2", {}, "复制一周的菜单"), submitting(h("form", { "aria-label": "复制一周的菜单" },
      h("div", { class: "row" }, field("从这一周（含此日期的一周）", from), field("复制到这一周", to)),
      h("label", { class: "inline", for: publish.id }, publish, "复制后立即发布"),
      h("div", { class: "actions" }, h("button", { type: "submit", class: "secondary" }, "复制上周菜单"))), async () => {
      const result = await post(path + "/menus/copy-week", { from: from.value, to: to.value, publish: publish.checked });
      toast(result.copied.length ? `已复制 ${result.copied.length} 天的菜单` : "源周没有菜单可复制");
      await route();
    }));
    return out;
  }

  function menuEditor(path, menu, done) {
    const form = h("form", { "aria-label": `编辑 ${menu.date} 的菜单` }, h("h2", {}, `编辑 ${menu.date} 的菜单`),
      h("p", { class: "hint" }, `价格以元为单位；标记可填：${MARKS.join("、")}，用顿号分隔。没有菜的餐次不保存。`));
    const sections = {};
    for (const [meal, mealName] of Object.entries(MEALS)) {
      const rows = h("div", {});
      const addRow = (dish) => {
        const name = h("input", { name: "name", maxlength: 30, value: dish ? dish.name : "" });
        const price = h("input", { name: "price", inputmode: "decimal", value: dish ? (dish.price_fen / 100).toString() : "" });
        const marks = h("input", { name: "marks", value: dish && dish.marks ? dish.marks.join("、") : "" });
        const n = rows.children.length + 1;
        const row = h("div", { class: "row dish" }, field(`${mealName}第${n}道菜 菜名`, name),
          h("div", { class: "narrow" }, field("价格（元）", price)), field("标记", marks),
          h("div", { class: "narrow" }, h("button", { type: "button", class: "secondary", "aria-label": `删除${mealName}第${n}道菜`,
            onclick: () => row.remove() }, "删除")));
        rows.append(row);
        return name;
      };
      for (const dish of (menu.meals[meal] && menu.meals[meal].dishes) || []) addRow(dish);
      sections[meal] = { rows, sets: (menu.meals[meal] && menu.meals[meal].sets) || [] };
      form.append(h("fieldset", {}, h("legend", {}, mealName), rows,
        h("button", { type: "button", class: "secondary", onclick: () => addRow().focus() }, `添加一道${mealName}菜`)));
    }
    const published = h("input", { type: "checkbox", name: "published", id: id("pub"), checked: menu.published });
    form.append(h("label", { class: "inline", for: published.id }, published, "发布（居民可以看到）"),
      h("div", { class: "actions" }, h("button", { type: "submit" }, "保存菜单"),
        h("button", { type: "button", class: "secondary", onclick: () => form.remove() }, "取消")));
    return submitting(form, async () => {
      const meals = {};
      for (const [meal, s] of Object.entries(sections)) {
        const dishes = [];
        for (const row of s.rows.querySelectorAll(".dish")) {
          const name = row.querySelector('[name="name"]').value.trim();
          const priceText = row.querySelector('[name="price"]').value.trim();
          if (!name) continue;
          const price = Math.round(parseFloat(priceText) * 100);
          if (!Number.isFinite(price) || price < 0) throw new ApiError(400, { message: `“${name}”的价格应为数字（元）` });
          const marks = row.querySelector('[name="marks"]').value.split(/[、,，\s]+/).filter(Boolean);
          const bad = marks.filter((m) => !MARKS.includes(m));
          if (bad.length) throw new ApiError(400, { message: `“${name}”的标记“${bad.join("、")}”不认识，可填：${MARKS.join("、")}` });
          dishes.push({ name, price_fen: price, ...(marks.length ? { marks } : {}) });
        }
        if (dishes.length) meals[meal] = { dishes, ...(s.sets.length ? { sets: s.sets } : {}) };
      }
      await api("PUT", `${path}/menus/${menu.date}`, { meals, published: published.checked });
      toast(`${menu.date} 的菜单已保存${published.checked ? "并发布" : ""}`);
      done();
    });
  }

  async function deliveriesSection(path, params) {
    const day = h("input", { type: "date", name: "date", value: params.get("date") || today(), required: true });
    const meal = select("meal", Object.entries(MEALS), params.get("meal") || "lunch");
    const list = h("div", { class: "table-wrap" });
    const summary = h("p", { role: "status" });
    const load = async () => {
      const rows = (await get(path + "/deliveries" + qs({ date: day.value, meal: meal.value }))).items;
      const portions = rows.reduce((n, x) => n + (x.portions || 0), 0);
      summary.textContent = `${day.value} ${MEALS[meal.value]}：共 ${rows.length} 单，${portions} 份`;
      if (!rows.length) { list.replaceChildren(h("p", {}, "这一餐没有送餐单。")); return; }
      const cell = (label, ...content) => h("td", { "data-label": label }, ...content);
      list.replaceChildren(h("table", { class: "stack" },
        h("caption", { class: "hint" }, "送餐单"),
        h("thead", {}, h("tr", {}, ["编号", "状态", "份数", "菜品", "姓名", "电话", "地址", "网格", "操作"].map((t) => h("th", { scope: "col" }, t)))),
        h("tbody", {}, rows.map((x) => h("tr", {},
          cell("编号", h("a", { href: "#/requests/" + encodeURIComponent(x.number) }, x.number)),
          cell("状态", stateBadge(x.state, x.state_name)), cell("份数", String(x.portions)),
          cell("菜品", (x.dishes || []).join("、") || "—"), cell("姓名", x.name || "—"),
          cell("电话", x.phone ? h("a", { href: "tel:" + x.phone }, x.phone) : "—"), cell("地址", x.address || "—"),
          cell("网格", x.grid || "—"),
          cell("操作", ["done", "closed", "cancelled", "rejected"].includes(x.state) ? "—" : h("button", {
            type: "button", "aria-label": `${x.number} 送达`, onclick: async (e) => {
              e.target.disabled = true;
              try {
                await post(`${path}/deliveries/${encodeURIComponent(x.number)}/delivered`);
                toast(`${x.number} 已送达`);
                await load();
              } catch (err) { if (err.status !== 401) toast(err.message); e.target.disabled = false; }
            } }, "送达")))))));
    };
    const download = async (format) => {
      const answer = await api("GET", path + "/deliveries" + qs({ date: day.value, meal: meal.value, format }), undefined, true);
      const blob = await answer.blob();
      const url = URL.createObjectURL(blob);
      if (format === "csv") {
        const a = h("a", { href: url, download: `送餐单-${day.value}-${meal.value}.csv` });
        document.body.append(a); a.click(); a.remove();
      } else {
        window.open(url, "_blank", "noopener");
      }
      setTimeout(() => URL.revokeObjectURL(url), 60000);
    };
    const form = submitting(h("form", { "aria-label": "选择送餐日期和餐次" },
      h("div", { class: "row" }, field("日期", day), field("餐次", meal),
        h("div", { class: "narrow" }, h("button", { type: "submit" }, "查看")))), load);
    const tools = h("div", { class: "actions" },
      h("button", { type: "button", class: "secondary", onclick: () => download("csv").catch((e) => toast(e.message)) }, "下载 CSV"),
      h("button", { type: "button", class: "secondary", onclick: () => download("html").catch((e) => toast(e.message)) }, "打印送餐单"));
    try { await load(); } catch (e) { if (e.status === 401) throw e; list.replaceChildren(errorBox(e.message)); }
    return h("section", { "aria-labelledby": "deliveries-h" }, h("h2", { id: "deliveries-h" }, "送餐单"), form, summary, list, tools);
  }

  // ---- accounts and teams -------------------------------------------------------------------------

  async function pageAccounts() {
    document.title = "账号与队伍 · 社区工作台";
    const user = session.user;
    const cid = await currentCommunity();
    const d = await communityDetail(cid);
    const out = [h("h1", {}, `账号与队伍 · ${d.name}`), await communityPicker()];
    out.push(h("h2", {}, "社区公众号"), d.account ? h("dl", { class: "facts" },
      h("dt", {}, "名称"), h("dd", {}, d.account.name), h("dt", {}, "类型"), h("dd", {}, d.account.type === "service" ? "服务号" : "订阅号"),
      h("dt", {}, "编号"), h("dd", {}, d.account.id), h("dt", {}, "消息加密"), h("dd", {}, { plain: "明文", compatible: "兼容", safe: "安全（加密）" }[d.account.encryption_mode] || d.account.encryption_mode))
      : h("p", {}, "没有接入公众号。"));
    out.push(h("h2", {}, `服务队（${d.teams.length}）`), d.teams.length ? h("table", { class: "stack" },
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "名称"), h("th", { scope: "col" }, "类型"), h("th", { scope: "col" }, "纸条"))),
      h("tbody", {}, d.teams.map((t) => h("tr", {}, h("td", { "data-label": "名称" }, t.name), h("td", { "data-label": "类型" }, t.kind_name),
        h("td", { "data-label": "纸条" }, h("a", { href: "#/inbox?team=" + encodeURIComponent(t.id) }, `查看${t.name}的纸条`))))))
      : h("p", {}, "没有服务队。"));
    out.push(h("h2", {}, "食堂"), d.canteens.length ? h("ul", {}, d.canteens.map((k) => h("li", {}, k.name))) : h("p", {}, "没有食堂。"));
    if (d.grids && d.grids.length) out.push(h("h2", {}, "网格"), h("p", {}, d.grids.map((g) => (typeof g === "string" ? g : g.name || g.id)).join("、")));
    if (d.staff) {
      out.push(h("h2", {}, `工作人员（${d.staff.length}）`), h("table", { class: "stack" },
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "姓名"), h("th", { scope: "col" }, "账号"), h("th", { scope: "col" }, "角色"))),
        h("tbody", {}, d.staff.map((s) => h("tr", {}, h("td", { "data-label": "姓名" }, s.display_name),
          h("td", { "data-label": "账号" }, s.username), h("td", { "data-label": "角色" }, s.role_name))))));
    }
    if (!user.scope.community_id) {
      const list = await communities();
      out.push(h("h2", {}, `我管理的社区（${list.length}）`), h("ul", {}, list.map((c) => h("li", {}, `${c.name}（${c.code}）`))));
    }
    const oldPw = h("input", { type: "password", name: "old_password", autocomplete: "current-password", required: true });
    const newPw = h("input", { type: "password", name: "new_password", autocomplete: "new-password", required: true, minlength: 8 });
    out.push(h("h2", {}, "修改我的密码"), submitting(h("form", { "aria-label": "修改我的密码" },
      field("原密码", oldPw), field("新密码", newPw, "修改后其他设备上的登录会失效。"),
      h("div", { class: "actions" }, h("button", { type: "submit", class: "secondary" }, "修改密码"))), async () => {
      const data = await post("/auth/password", { old_password: oldPw.value, new_password: newPw.value });
      session.save(data.token, data.user);
      oldPw.value = newPw.value = "";
      toast("密码已修改");
    }));
    return out;
  }

  // ---- audit log ----------------------------------------------------------------------------------

  async function pageAudit(r) {
    document.title = "操作记录 · 社区工作台";
    const cid = await currentCommunity();
    const cursor = r.params.get("cursor");
    const page = await get("/audit" + qs({ community: cid, limit: 30, cursor }));
    const d = await communityDetail(cid);
    const out = [h("h1", {}, `操作记录 · ${d.name}`), await communityPicker()];
    if (!page.items.length) out.push(h("p", {}, "没有记录。"));
    else {
      out.push(h("div", { class: "table-wrap" }, h("table", { class: "stack" },
        h("thead", {}, h("tr", {}, ["时间", "纸条", "操作", "操作人", "状态", "说明"].map((t) => h("th", { scope: "col" }, t)))),
        h("tbody", {}, page.items.map((e) => h("tr", {},
          h("td", { "data-label": "时间" }, fmt(e.at)),
          h("td", { "data-label": "纸条" }, h("a", { href: "#/requests/" + encodeURIComponent(e.number) }, e.number)),
          h("td", { "data-label": "操作" }, ACTIONS[e.action] || e.action),
          h("td", { "data-label": "操作人" }, e.actor_name || e.actor || "居民", !e.actor_name && e.actor_role ? `（${ROLES[e.actor_role] || e.actor_role}）` : ""),
          h("td", { "data-label": "状态" }, e.to_state ? `${STATES[e.from_state] || "—"} → ${STATES[e.to_state] || e.to_state}` : "—"),
          h("td", { "data-label": "说明" }, e.note || "")))))));
    }
    out.push(h("nav", { "aria-label": "翻页", class: "actions" },
      cursor ? h("a", { class: "button secondary", href: "#/audit" }, "第一页") : null,
      page.cursor ? h("a", { class: "button", href: "#/audit?cursor=" + encodeURIComponent(page.cursor) }, "下一页") : null));
    return out;
  }

  // ---- start --------------------------------------------------------------------------------------

  function setLarge(on) {
    document.documentElement.classList.toggle("large", on);
    document.getElementById("large-type").setAttribute("aria-pressed", on ? "true" : "false");
    try { localStorage.setItem(KEY.large, on ? "1" : "0"); } catch (e) { /* private mode */ }
  }
  let large = false;
  try { large = localStorage.getItem(KEY.large) === "1"; } catch (e) { large = false; }
  setLarge(large);
  document.getElementById("large-type").addEventListener("click", () => setLarge(!document.documentElement.classList.contains("large")));
  document.getElementById("logout").addEventListener("click", async () => {
    try { await post("/auth/logout"); } catch (e) { /* already out */ }
    session.clear();
    communityCache = null;
    for (const k of Object.keys(detailCache)) delete detailCache[k];
    go("login", "已退出登录");
  });
  document.getElementById("skip").addEventListener("click", (e) => { e.preventDefault(); main.focus(); });
  window.addEventListener("hashchange", route);
  route.moved = false;

  // ---- extension point: pages of other features live in console/pages/*.js ------------------------
  // Each such file (loaded after this one, before DOMContentLoaded) calls
  //   window.Console.register("posts", pageFn, { nav: "发稿", needs: "community" })
  // and uses the same helpers as the pages above, so a feature adds a file, not lines here.
  window.Console = {
    h, field, select, fmt, today, addDays, yuan, stateBadge, toast, errorBox, session, api, get, post, qs,
    submitting, communities, currentCommunity, communityDetail, communityPicker, go, route, cards, deliveriesSection,
    STATES, CATEGORIES, ACTIONS, ROLES, MEALS, FLAGS, VOCABULARY: V,
    register(name, page, options) {
      if (PAGES[name]) throw new Error("console page registered twice: " + name);
      PAGES[name] = page;
      const opts = options || {};
      if (opts.nav) {
        const li = h("li", opts.needs ? { "data-needs": opts.needs } : {},
          h("a", { href: "#/" + name, "data-page": name }, opts.nav));
        document.querySelector("#nav ul").append(li);
      }
    },
  };
  document.addEventListener("DOMContentLoaded", route);
})();
