/* The home of a service team's member and of a department (服务队、对接部门): their open 便民纸条 (the overdue
   ones first) and, for a team, today's deliveries with the delivery list one tap away (#/deliveries). Only the
   list endpoints a team or department may call: /api/v1/requests (routed to them), /api/v1/communities
   (their community and its canteens), /api/v1/canteens/{id}/deliveries (the orders routed to them). */
"use strict";
(function () {
  const C = window.Console;
  const { h, get, qs, session } = C;
  const OPEN = C.VOCABULARY.open_states;
  const DONE = ["done", "closed", "cancelled", "rejected"];

  async function teamCanteens() {
    const list = await C.communities();
    return list.flatMap((c) => c.canteens || []);
  }

  async function pageWorkHome() {
    const user = session.user;
    document.title = "首页 · 社区工作台";
    const page = await get("/requests" + qs({ limit: 50 }));
    const open = page.items.filter((r) => OPEN.includes(r.state));
    const now = new Date();
    const overdue = open.filter((r) => r.due_at && new Date(r.due_at) < now);
    const out = [h("h1", {}, `${user.display_name}，您好`)];
    if (user.role === "team_member") {
      const canteens = await teamCanteens();
      const today = C.today();
      out.push(h("h2", {}, `今日送餐（${today}）`));
      if (!canteens.length) out.push(h("p", {}, "本社区没有登记食堂。"));
      for (const k of canteens) {
        const items = [];
        for (const meal of ["lunch", "dinner"]) {
          const rows = (await get(`/canteens/${encodeURIComponent(k.id)}/deliveries` + qs({ date: today, meal }))).items;
          const left = rows.filter((x) => !DONE.includes(x.state)).length;
          items.push(h("li", {}, h("a", { href: "#/deliveries" + qs({ canteen: k.id, meal, date: today }) },
            `${C.MEALS[meal]}：${rows.length} 单，${rows.reduce((n, x) => n + (x.portions || 0), 0)} 份`, left ? `（未送达 ${left}）` : "")));
        }
        out.push(h("h3", {}, k.name), h("ul", { class: "counts" }, items));
      }
    }
    out.push(h("h2", {}, `待办的纸条（${open.length}）`),
      overdue.length ? h("p", { class: "error" }, `其中已超时 ${overdue.length} 张`) : null,
      C.cards([...overdue, ...open.filter((r) => !overdue.includes(r))], null, "没有待办的纸条。"));
    const finished = page.items.filter((r) => !OPEN.includes(r.state)).slice(0, 10);
    if (finished.length) out.push(h("h2", {}, "最近办结"), C.cards(finished, null));
    return out;
  }

  async function pageDeliveries(r) {
    document.title = "送餐单 · 社区工作台";
    const canteens = session.user.role === "team_member" ? await teamCanteens()
      : (await C.communityDetail(await C.currentCommunity())).canteens;
    const id = r.params.get("canteen") && canteens.some((k) => k.id === r.params.get("canteen")) ? r.params.get("canteen")
      : (canteens[0] || {}).id;
    if (!id) return [h("h1", {}, "送餐单"), h("p", {}, "没有登记食堂。")];
    const k = canteens.find((x) => x.id === id);
    return [h("p", {}, h("a", { href: "#/home" }, "← 返回首页")), h("h1", {}, `送餐单 · ${k.name}`),
      await C.deliveriesSection(`/canteens/${encodeURIComponent(id)}`, r.params)];
  }

  C.register("workhome", pageWorkHome, {});
  C.register("deliveries", pageDeliveries, { nav: "送餐单", needs: "role:team_member" });
})();
