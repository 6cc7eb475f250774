/* 社区活动: staff publish an activity, see its sign-ups (waiting list in order), mark attendance and export
   the list as CSV. Uses /api/v1/activities… */
"use strict";
(function () {
  const C = window.Console;
  const { h, field, select, api, get, post, toast, submitting, fmt, qs } = C;
  const AUDIENCES = ["所有居民", "老年人", "青少年", "儿童及家长", "残疾人", "党员", "志愿者"];

  function newForm(cid) {
    const title = h("input", { name: "title", required: true, maxlength: 40 });
    const starts = h("input", { name: "starts_at", type: "datetime-local", required: true });
    const deadline = h("input", { name: "signup_deadline", type: "datetime-local" });
    const place = h("input", { name: "place", required: true });
    const capacity = h("input", { name: "capacity", type: "number", min: 1, value: 20, required: true });
    const audience = select("audience", AUDIENCES.map((a) => [a, a]), "老年人");
    const relatives = h("input", { name: "relatives_allowed", type: "checkbox", checked: true });
    const description = h("textarea", { name: "description", rows: 3 });
    const form = h("form", { class: "card", "aria-label": "发布活动" }, h("h2", {}, "发布活动"),
      field("活动名称", title), field("开始时间（上海时间）", starts), field("报名截止（可不填，默认开始时）", deadline),
      field("地点", place), field("名额", capacity), field("面向人群", audience),
      h("label", { class: "check" }, relatives, " 允许家属替老人报名"), field("介绍", description),
      h("div", { class: "actions" }, h("button", { type: "submit" }, "发布")));
    return submitting(form, async () => {
      await post("/activities", { community_id: cid, title: title.value, starts_at: starts.value,
        signup_deadline: deadline.value || undefined, place: place.value, capacity: Number(capacity.value),
        audience: audience.value, relatives_allowed: relatives.checked, description: description.value });
      toast("活动已发布，居民回复“活动”即可看到");
      C.route();
    });
  }

  async function pageActivities(r) {
    document.title = "社区活动 · 社区工作台";
    const cid = await C.currentCommunity();
    if (r.arg) return pageSignups(r.arg);
    const list = await get("/activities" + qs({ community: cid }));
    const d = await C.communityDetail(cid);
    return [h("h1", {}, `社区活动 · ${d.name}`), await C.communityPicker(), newForm(cid),
      h("h2", {}, "活动列表"),
      list.items.length ? h("ul", { class: "cards" }, list.items.map((a) => h("li", { class: "card" },
        h("a", { class: "title", href: "#/activities/" + encodeURIComponent(a.id) }, a.title),
        h("p", {}, `${fmt(a.starts_at)} · ${a.place} · ${a.audience}`),
        h("p", {}, `名额 ${a.capacity}，已报 ${a.taken}`)))) : h("p", {}, "还没有活动。")];
  }

  async function pageSignups(id) {
    const data = await get(`/activities/${encodeURIComponent(id)}/signups`);
    const a = data.activity;
    const rows = data.items.map((s) => {
      const box = h("input", { type: "checkbox", checked: s.attended === true, disabled: s.state !== "confirmed",
        "aria-label": `${s.person} ${s.resident} 到场` });
      box.addEventListener("change", async () => {
        try { await post(`/activities/${encodeURIComponent(id)}/attendance`, { key: s.key, attended: box.checked }); toast("已记录"); }
        catch (e) { box.checked = !box.checked; toast(e.message); }
      });
      return h("tr", {}, h("td", { "data-label": "报名人" }, s.person), h("td", { "data-label": "居民" }, s.resident),
        h("td", { "data-label": "状态" }, s.state_name + (s.position ? `（第${s.position}位）` : "")),
        h("td", { "data-label": "到场" }, box), h("td", { "data-label": "报名时间" }, fmt(s.created_at)));
    });
    const csv = async () => {
      const answer = await api("GET", `/activities/${encodeURIComponent(id)}/signups?format=csv`, undefined, true);
      const url = URL.createObjectURL(await answer.blob());
      const link = h("a", { href: url, download: `signups-${id}.csv` });
      document.body.append(link); link.click(); link.remove();
    };
    return [h("h1", {}, `报名名单 · ${a.title}`), h("p", {}, `${fmt(a.starts_at)} · ${a.place} · 名额 ${a.capacity}，已报 ${a.taken}`),
      h("div", { class: "actions" }, h("a", { class: "button secondary", href: "#/activities" }, "返回"),
        h("button", { type: "button", onclick: csv }, "导出 CSV"), h("button", { type: "button", class: "secondary", onclick: () => window.print() }, "打印")),
      h("div", { class: "table-wrap" }, h("table", { class: "stack" },
        h("thead", {}, h("tr", {}, ["报名人", "居民", "状态", "到场", "报名时间"].map((t) => h("th", { scope: "col" }, t)))),
        h("tbody", {}, rows)))];
  }

  C.register("activities", pageActivities, { nav: "社区活动", needs: "role:social_worker,director,district_admin" });
})();
