/* 月通报 (the monthly bulletin) and 全区总览 (the district overview).
   月通报: GET /api/v1/bulletins/{month} — ranks in the district and the sub-district with the change from last
   month, sub-district sums, charts drawn with Chart.js (shipped at /console/vendor/chart.umd.min.js, no CDN),
   each deduction line by line with its appeal, the district admin's build / issue / correction buttons,
   CSV and XLSX downloads and a printable A4 view (the browser's print, with app.css's print rules).
   全区总览: GET /api/v1/overview — every community in scope, a page at a time, sortable in the page. */
"use strict";
(function () {
  const C = window.Console;
  const { h, field, select, api, get, post, toast, qs, session } = C;
  const BASE = (document.querySelector('meta[name="console-base"]') || {}).content || "/console";
  let chartLoading = null;

  /** Chart.js, loaded once from the app's own origin (the CSP allows only 'self'). */
  function loadChart() {
    if (window.Chart) return Promise.resolve(window.Chart);
    if (!chartLoading) {
      chartLoading = new Promise((resolve, reject) => {
        const s = h("script", { src: BASE + "/vendor/chart.umd.min.js" });
        s.addEventListener("load", () => resolve(window.Chart));
        s.addEventListener("error", () => { chartLoading = null; reject(new Error("图表组件加载失败")); });
        document.head.append(s);
      });
    }
    return chartLoading;
  }

  function lastMonth() {
    const d = new Date(Date.now() + 8 * 3600 * 1000);  // Shanghai
    d.setUTCDate(1);
    d.setUTCMonth(d.getUTCMonth() - 1);
    return d.toISOString().slice(0, 7);
  }

  const num = (v) => (v === null || v === undefined ? "—" : typeof v === "number" ? v.toLocaleString("zh-CN") : String(v));
  const change = (v) => (v === null || v === undefined ? "—" : v > 0 ? `↑${v}` : v < 0 ? `↓${-v}` : "—");

  function chartCard(title, label, config) {
    const canvas = h("canvas", { role: "img", "aria-label": label, "data-chart": label });
    const box = h("div", { class: "card chart-card" }, h("h3", {}, title), h("div", { class: "chart-box" }, canvas));
    return { box, draw: (Chart) => new Chart(canvas, config) };
  }

  function charts(data) {
    const rows = [...data.rows].sort((a, b) => b.posts_sent - a.posts_sent);
    const subs = data.subdistricts;
    const mk = (type, labels, datasets, horizontal) => ({
      type, data: { labels, datasets },
      options: { responsive: true, maintainAspectRatio: false, animation: false,
        indexAxis: horizontal ? "y" : "x", plugins: { legend: { position: "bottom" } } },
    });
    return [
      chartCard("各社区发稿量（本月与上月）", "各社区发稿量", mk("bar", rows.map((r) => r.community_name), [
        { label: "本月", data: rows.map((r) => r.posts_sent), backgroundColor: "#2f6f9f" },
        { label: "上月", data: rows.map((r) => (r.previous ? r.previous.posts_sent : null)), backgroundColor: "#b8c7d6" },
      ])),
      chartCard("各街道粉丝数与增长", "各街道粉丝数", mk("bar", subs.map((s) => s.subdistrict_name), [
        { label: "月末粉丝数", data: subs.map((s) => s.followers_end), backgroundColor: "#3d8b5a" },
        { label: "本月增长", data: subs.map((s) => s.followers_growth), backgroundColor: "#c58b2b" },
      ])),
      chartCard("各街道阅读量", "各街道阅读量", mk("bar", subs.map((s) => s.subdistrict_name), [
        { label: "总阅读数", data: subs.map((s) => s.reads_total), backgroundColor: "#7a4f9a" },
        { label: "头条阅读数", data: subs.map((s) => s.headline_reads), backgroundColor: "#d0a5e0" },
      ])),
      chartCard("各社区阅读量（本月与上月）", "各社区阅读量", mk("line", rows.map((r) => r.community_name), [
        { label: "本月总阅读数", data: rows.map((r) => r.reads_total), borderColor: "#7a4f9a" },
        { label: "上月总阅读数", data: rows.map((r) => (r.previous ? r.previous.reads_total : null)), borderColor: "#b8c7d6" },
      ])),
    ];
  }

  function deductionsTable(data, reload) {
    const user = session.user;
    const canAppeal = ["subdistrict_reviewer", "district_admin"].includes(user.role) && data.status === "issued";
    const canDecide = user.role === "district_admin";
    const lines = [];
    for (const r of data.rows) for (const d of r.deductions) lines.push([r, d]);
    if (!lines.length) return h("p", {}, "本月没有扣分项。");
    return h("div", { class: "table-wrap" }, h("table", { class: "stack" },
      h("thead", {}, h("tr", {}, ["社区", "规则", "说明", "扣分", "申诉", "最终扣分"].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, lines.map(([r, d]) => {
        const a = d.appeal;
        const actions = [];
        if (!a && canAppeal && user.role === "subdistrict_reviewer") {
          actions.push(h("button", { type: "button", class: "secondary", onclick: async () => {
            const reason = prompt(`对“${r.community_name} · ${d.rule}”申诉的理由：`);
            if (!reason) return;
            try { await post(`/bulletins/${data.month}/appeals`, { line_id: d.line_id, reason }); toast("已提交申诉"); reload(); }
            catch (e) { toast(e.message); }
          } }, "申诉"));
        }
        if (a && a.state === "pending" && canDecide) {
          for (const [decision, label] of [["accept", "采纳"], ["reject", "驳回"]]) {
            actions.push(h("button", { type: "button", class: decision === "accept" ? "" : "secondary", onclick: async () => {
              const note = prompt(label + "的意见：") || "";
              let points;
              if (decision === "accept") {
                const v = prompt("改判扣分（留空为不扣分）：", "0");
                points = v === null || v === "" ? 0 : Number(v);
              }
              try { await post(`/bulletins/${data.month}/decisions`, { line_id: d.line_id, decision, note, points }); toast("已处理"); reload(); }
              catch (e) { toast(e.message); }
            } }, label), " ");
          }
        }
        const trail = a ? a.trail.map((t) => `${t.at.slice(0, 16).replace("T", " ")} ${t.by} ${{ appeal: "申诉", accept: "采纳", reject: "驳回" }[t.action]}：${t.note || ""}`).join("；") : "";
        return h("tr", { "data-line": d.line_id },
          h("td", { "data-label": "社区" }, r.community_name),
          h("td", { "data-label": "规则" }, d.rule),
          h("td", { "data-label": "说明" }, d.explanation),
          h("td", { "data-label": "扣分" }, num(d.points)),
          h("td", { "data-label": "申诉" }, a ? `${{ pending: "待区里决定", accepted: "已采纳", rejected: "已驳回" }[a.state]}（${trail}）` : "—", " ", actions),
          h("td", { "data-label": "最终扣分" }, num(d.final_points)));
      }))));
  }

  async function pageBulletin(r) {
    document.title = "月通报 · 社区工作台";
    const month = /^\d{4}-\d{2}$/.test(r.params.get("month") || "") ? r.params.get("month") : lastMonth();
    const user = session.user;
    const admin = user.role === "district_admin";
    const monthInput = h("input", { type: "month", name: "month", value: month });
    const pick = h("form", { class: "row actions", "aria-label": "选择月份" }, field("月份", monthInput),
      h("button", { type: "submit", class: "secondary" }, "查看"));
    pick.addEventListener("submit", (e) => { e.preventDefault(); location.hash = "#/bulletin" + qs({ month: monthInput.value }); });
    const reload = () => C.route();
    let data;
    try {
      data = await get("/bulletins/" + month);
    } catch (e) {
      if (e.status !== 404) throw e;
      const build = admin ? h("button", { type: "button", onclick: async () => {
        try { await post(`/bulletins/${month}/build`); toast("已生成草稿"); reload(); } catch (err) { toast(err.message); }
      } }, "生成本月通报草稿") : "";
      return [h("h1", {}, `${month} 月通报`), pick, h("p", {}, "该月通报尚未生成。"), build];
    }
    const [year, mon] = month.split("-");
    const status = data.status === "issued" ? `已发布（第 ${data.version} 版，${(data.issued_at || "").slice(0, 10)}）` : `草稿（第 ${data.version} 版，未发布）`;
    const download = async (format) => {
      const answer = await api("GET", `/bulletins/${month}/export?format=${format}`, undefined, true);
      const url = URL.createObjectURL(await answer.blob());
      const a = h("a", { href: url, download: `月通报-${month}-v${data.version}.${format}` });
      document.body.append(a); a.click(); a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60000);
    };
    const buttons = [
      h("button", { type: "button", class: "secondary", onclick: () => download("csv").catch((e) => toast(e.message)) }, "下载 CSV"),
      h("button", { type: "button", class: "secondary", onclick: () => download("xlsx").catch((e) => toast(e.message)) }, "下载 Excel"),
      h("button", { type: "button", class: "secondary", onclick: () => window.print() }, "打印（A4）"),
    ];
    if (admin && data.status === "draft") {
      buttons.push(h("button", { type: "button", class: "secondary", onclick: async () => {
        try { await post(`/bulletins/${month}/build`); toast("已按最新数据重新生成"); reload(); } catch (e) { toast(e.message); }
      } }, "重新生成草稿"));
      buttons.push(h("button", { type: "button", onclick: async () => {
        if (!confirm("发布后不可修改，并通知各社区主任和街道审核人。确定发布？")) return;
        try { const res = await post(`/bulletins/${month}/issue`); toast(`已发布，已通知 ${res.notified.written} 人`); reload(); }
        catch (e) { toast(e.message); }
      } }, "发布"));
    }
    if (admin && data.status === "issued" && data.version === data.latest_version) {
      buttons.push(h("button", { type: "button", class: "secondary", onclick: async () => {
        const reason = prompt("更正原因：");
        if (!reason) return;
        try { await post(`/bulletins/${month}/corrections`, { reason }); toast("已生成更正版草稿"); reload(); } catch (e) { toast(e.message); }
      } }, "更正（生成新版本）"));
    }
    const cards = charts(data);
    const correction = data.correction ? h("div", { class: "card" }, h("h2", {}, `更正说明（相对第 ${data.correction.of_version} 版）`),
      h("p", {}, "原因：" + data.correction.reason),
      h("ul", {}, data.correction.changes.map((c) => h("li", {}, `${c.community_name}：${c.field} ${num(c.from)} → ${num(c.to)}`)))) : "";
    const formula = data.index_formula ? h("p", { class: "muted" }, `${data.index_formula.name} = ${data.index_formula.scale} × (` +
      data.index_formula.terms.map((t) => `${t.weight}×${t.transform === "ln1p" ? `ln(1+${t.label})` : t.label}`).join(" + ") +
      `) / ${data.index_formula.divisor}`) : "";
    const table = h("div", { class: "table-wrap" }, h("table", { class: "stack bulletin-rows" },
      h("thead", {}, h("tr", {}, ["全区排名", "变化", "街道内", "社区", "街道", "发稿", "未发稿天数", "月末粉丝", "增长",
        "总阅读", "篇均", "头条阅读", "纸条受理", "办结", "按时", "办结中位(时)", "满意度", "送餐", "审核次数", "审核用时中位(时)", data.index_formula ? "指数" : null, "最终绩效"]
        .filter(Boolean).map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, data.rows.map((x) => h("tr", {},
        [["全区排名", x.rank_district], ["变化", change(x.rank_change)], ["街道内", x.rank_subdistrict], ["社区", x.community_name],
          ["街道", x.subdistrict_name], ["发稿", x.posts_sent], ["未发稿天数", x.days_missed], ["月末粉丝", x.followers_end],
          ["增长", x.followers_growth], ["总阅读", x.reads_total], ["篇均", x.reads_per_post], ["头条阅读", x.headline_reads],
          ["纸条受理", x.requests_filed], ["办结", x.requests_completed], ["按时", x.requests_completed_on_time],
          ["办结中位(时)", x.median_hours_to_complete], ["满意度", x.satisfaction], ["送餐", x.meals_delivered],
          ["审核次数", x.reviews], ["审核用时中位(时)", x.median_review_hours],
          data.index_formula ? ["指数", x.index, x.index_computation] : null, ["最终绩效", x.final_points]]
          .filter(Boolean).map(([label, v, title]) => h("td", title ? { "data-label": label, title } : { "data-label": label }, num(v))))))));
    const sums = h("div", { class: "table-wrap" }, h("table", { class: "stack" },
      h("thead", {}, h("tr", {}, ["街道", "社区数", "发稿", "未发稿天数", "月末粉丝", "增长", "总阅读", "篇均", "纸条受理", "办结", "送餐", "扣分合计"].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, data.subdistricts.map((s) => h("tr", {},
        [["街道", s.subdistrict_name], ["社区数", s.communities], ["发稿", s.posts_sent], ["未发稿天数", s.days_missed],
          ["月末粉丝", s.followers_end], ["增长", s.followers_growth], ["总阅读", s.reads_total], ["篇均", s.reads_per_post],
          ["纸条受理", s.requests_filed], ["办结", s.requests_completed], ["送餐", s.meals_delivered], ["扣分合计", s.points_deducted]]
          .map(([label, v]) => h("td", { "data-label": label }, num(v))))))));
    const nodes = [
      h("h1", {}, `${year}年${Number(mon)}月社区微信平台月通报`),
      h("p", { class: "bulletin-status" }, status, data.previous_month ? `　对比上月：${data.previous_month}` : ""),
      pick, h("div", { class: "actions" }, buttons), correction,
      h("h2", {}, "图表"), h("div", { class: "chart-grid" }, cards.map((c) => c.box)),
      h("h2", {}, "社区排名"), formula, table,
      h("h2", {}, "各街道合计"), sums,
      h("h2", {}, `绩效扣分（基础分 ${data.base_points}）`), deductionsTable(data, reload),
    ];
    loadChart().then((Chart) => { for (const c of cards) c.draw(Chart); }).catch((e) => toast(e.message));
    return nodes;
  }

  const POST_LABELS = { sent: "已发", pending: "待发", in_review: "审核中", failed: "发送失败", missing: "缺稿" };
  const SORTS = [["community_id", "社区"], ["requests_open", "未办结纸条"], ["requests_overdue", "超时纸条"],
    ["today_post", "今日发稿"], ["posts_sent", "本月发稿"], ["requests_filed", "本月受理"], ["followers", "粉丝数"]];

  async function pageOverview(r) {
    document.title = "全区总览 · 社区工作台";
    const cursor = r.params.get("cursor") || "";
    const sort = r.params.get("sort") || "community_id";
    const data = await get("/overview" + qs({ cursor, limit: 20 }));
    const value = (x, key) => (key in x ? x[key] : key === "followers" ? x.month.followers || 0 : x.month[key]);
    const rows = [...data.rows].sort((a, b) => {
      const va = value(a, sort), vb = value(b, sort);
      return typeof va === "number" ? vb - va : String(va).localeCompare(String(vb));
    });
    const open = (cid) => { sessionStorage.setItem("console.community", cid); location.hash = "#/home"; };
    const sorter = select("sort", SORTS, sort);
    sorter.addEventListener("change", () => { location.hash = "#/overview" + qs({ sort: sorter.value, cursor }); });
    return [
      h("h1", {}, `全区总览（${data.day}）`),
      h("p", {}, "各社区的便民纸条、今日发稿与本月数据；排序在本页内进行。"),
      h("div", { class: "row" }, field("排序", sorter)),
      h("div", { class: "table-wrap" }, h("table", { class: "stack overview-rows" },
        h("thead", {}, h("tr", {}, ["社区", "街道", "未办结纸条", "超时纸条", "今日发稿", "本月发稿", "本月受理", "本月办结", "粉丝数"].map((t) => h("th", { scope: "col" }, t)))),
        h("tbody", {}, rows.map((x) => h("tr", {},
          h("td", { "data-label": "社区" }, h("a", { href: "#/home", onclick: (e) => { e.preventDefault(); open(x.community_id); } }, x.community_name)),
          h("td", { "data-label": "街道" }, x.subdistrict_name),
          h("td", { "data-label": "未办结纸条" }, num(x.requests_open)),
          h("td", { "data-label": "超时纸条" }, num(x.requests_overdue)),
          h("td", { "data-label": "今日发稿" }, POST_LABELS[x.today_post] || x.today_post),
          h("td", { "data-label": "本月发稿" }, num(x.month.posts_sent)),
          h("td", { "data-label": "本月受理" }, num(x.month.requests_filed)),
          h("td", { "data-label": "本月办结" }, num(x.month.requests_completed)),
          h("td", { "data-label": "粉丝数" }, num(x.month.followers))))))),
      h("div", { class: "actions" },
        cursor ? h("a", { href: "#/overview" + qs({ sort }) }, "回到第一页") : "", " ",
        data.cursor ? h("a", { href: "#/overview" + qs({ sort, cursor: data.cursor }) }, "下一页") : ""),
    ];
  }

  C.register("bulletin", pageBulletin, { nav: "月通报", needs: "role:district_admin,subdistrict_reviewer,director" });
  C.register("overview", pageOverview, { nav: "全区总览", needs: "role:district_admin,subdistrict_reviewer" });
})();
