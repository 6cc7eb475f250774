/* 联盟矩阵: the district's 130 government WeChat and Weibo accounts; district staff add, edit and
   remove entries (PUT/DELETE /api/v1/matrix/{id}). Residents see them on /h5/{account}/matrix.
   A large district's list comes a page at a time (cursor) and is searched by the server (q). */
"use strict";
(function () {
  const C = window.Console;
  const { h, field, select, api, get, toast, submitting } = C;
  const FIELDS = [["name", "名称"], ["owner", "主办单位"], ["description", "简介（一句话）"], ["wechat_id", "微信号"],
    ["weibo_url", "微博地址"], ["qr_url", "二维码图片地址（可不填）"]];

  function editor(entry, data, done) {
    const inputs = {};
    const idInput = h("input", { name: "id", value: entry ? entry.id : "", required: true, readonly: !!entry });
    const platform = select("platform", Object.entries(data.platforms), entry ? entry.platform : "wechat");
    const category = select("category", data.categories.map((c) => [c, c]), entry ? entry.category : data.categories[0]);
    for (const [name] of FIELDS) inputs[name] = h("input", { name, value: entry ? entry[name] || "" : "" });
    const form = h("form", { class: "card", "aria-label": entry ? "修改账号" : "添加账号" },
      h("h2", {}, entry ? `修改：${entry.name}` : "添加账号"),
      field("编号", idInput, "小写字母、数字或连字符，例如 judge-zhangyu"), field("平台", platform), field("类别", category),
      FIELDS.map(([name, label]) => field(label, inputs[name])),
      h("div", { class: "actions" }, h("button", { type: "submit" }, "保存")));
    return submitting(form, async () => {
      const body = { platform: platform.value, category: category.value };
      for (const [name] of FIELDS) body[name] = inputs[name].value;
      await api("PUT", "/matrix/" + encodeURIComponent(idInput.value.trim()), body);
      toast("已保存，居民端一分钟内可见");
      done();
    });
  }

  async function pageMatrix(r) {
    document.title = "联盟矩阵 · 社区工作台";
    const q = (r.params.get("q") || "").trim();
    const cursor = r.params.get("cursor") || "";
    const data = await get("/matrix" + C.qs({ q, cursor }));
    const shown = data.searched ? data.items
      : data.items.filter((x) => !q || (x.name + x.owner + x.description + x.category + x.platform_name).includes(q));
    const search = h("input", { name: "q", value: q, type: "search" });
    const searchForm = h("form", { role: "search", class: "row" }, field("查找", search),
      h("button", { type: "submit", class: "secondary" }, "查找"));
    searchForm.addEventListener("submit", (ev) => { ev.preventDefault(); location.hash = "#/matrix" + C.qs({ q: search.value }); });
    const holder = h("div", {});
    const reload = () => C.route();
    const rows = shown.map((x) => h("tr", {},
      h("td", { "data-label": "名称" }, x.name), h("td", { "data-label": "平台" }, x.platform_name),
      h("td", { "data-label": "类别" }, x.category), h("td", { "data-label": "主办单位" }, x.owner),
      h("td", { "data-label": "账号" }, x.wechat_id || x.weibo_url),
      h("td", { "data-label": "操作" },
        h("button", { type: "button", class: "secondary", onclick: () => { holder.replaceChildren(editor(x, data, reload)); holder.querySelector("input:not([readonly])").focus(); } }, "修改"),
        " ",
        h("button", { type: "button", class: "danger", onclick: async () => {
          if (!confirm(`删除“${x.name}”？`)) return;
          await api("DELETE", "/matrix/" + encodeURIComponent(x.id)); toast("已删除"); reload();
        } }, "删除"))));
    const more = data.searched && !data.complete ? "社区账号太多，请加上社区的名字查找。" : "";
    return [h("h1", {}, `联盟矩阵（${data.total ?? data.items.length} 个账号）`), searchForm,
      h("p", {}, `显示 ${shown.length} 个。版本 ${data.version}。${more}`,
        cursor ? [" ", h("a", { href: "#/matrix" }, "回到第一页")] : "",
        data.cursor ? [" ", h("a", { href: "#/matrix" + C.qs({ cursor: data.cursor }) }, "下一页")] : ""),
      h("div", { class: "actions" }, h("button", { type: "button", onclick: () => holder.replaceChildren(editor(null, data, reload)) }, "添加账号")),
      holder,
      h("div", { class: "table-wrap" }, h("table", { class: "stack" },
        h("thead", {}, h("tr", {}, ["名称", "平台", "类别", "主办单位", "账号", "操作"].map((t) => h("th", { scope: "col" }, t)))),
        h("tbody", {}, rows)))];
  }

  C.register("matrix", pageMatrix, { nav: "联盟矩阵", needs: "role:district_admin" });
})();
