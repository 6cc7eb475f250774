/* 代居民登记: a 便民纸条 for a resident who phoned, walked in or was met on a grid visit. The category is
   suggested from the words as chat would file them (POST /api/v1/requests/suggestion); a meal order names its
   day and meal. It goes through the one filing path (POST /api/v1/requests) and gets its number; the resident
   is told by WeChat when their WeChat is known, otherwise staff see “请电话告知居民” with the number. */
"use strict";
(function () {
  const C = window.Console;
  const { h, field, select, post, submitting, session } = C;
  const VIA = { phone: "电话", walk_in: "上门", grid_visit: "网格走访" };

  function told(req, phone) {
    if (req.has_wechat) return h("p", {}, "已通过微信告知居民编号和办理进度。");
    if (phone) {
      return h("p", { class: "error", role: "alert", id: "tell-by-phone" }, "请电话告知居民：",
        h("a", { href: "tel:" + phone }, phone), `，纸条编号 ${req.number}。`);
    }
    return h("p", { class: "error", role: "alert", id: "tell-by-phone" }, `居民没有微信和电话：请当面告知纸条编号 ${req.number}。`);
  }

  async function pageFile(r) {
    document.title = "代居民登记 · 社区工作台";
    const cid = await C.currentCommunity();
    if (!cid) return [h("h1", {}, "代居民登记"), h("p", {}, "您的账号没有可登记的社区。")];
    const detail = await C.communityDetail(cid);
    const result = h("div", { "aria-live": "polite", id: "file-result" });
    const via = select("via", Object.entries(VIA), r.params.get("via") || "phone");
    const name = h("input", { name: "name", maxlength: 50, autocomplete: "off" });
    const phone = h("input", { name: "phone", maxlength: 20, inputmode: "tel", autocomplete: "off" });
    const address = h("input", { name: "address", maxlength: 200, autocomplete: "off" });
    const consent = h("input", { type: "checkbox", name: "consent", id: "consent" });
    const earlier = h("input", { name: "resident_request", maxlength: 20, autocomplete: "off", autocapitalize: "characters" });
    const text = h("textarea", { name: "text", rows: 4, required: true, maxlength: 5000 });
    const category = select("category", Object.entries(C.CATEGORIES), "other");
    const grid = detail.grids && detail.grids.length
      ? select("grid", [["", "不指定"], ...detail.grids.map((g) => (typeof g === "string" ? [g, g] : [g.id, g.name || g.id]))], "") : null;
    const day = h("input", { type: "date", name: "day", value: C.today(1) });
    const meal = select("meal", Object.entries(C.MEALS), "lunch");
    const portions = h("input", { type: "number", name: "portions", min: 1, max: 20, value: 1 });
    const mealBox = h("fieldset", { hidden: true, id: "meal-box" }, h("legend", {}, "送餐"),
      h("div", { class: "row" }, field("日期", day), field("餐次", meal), h("div", { class: "narrow" }, field("份数", portions))));
    const hint = h("p", { class: "hint", id: "category-hint", "aria-live": "polite" });
    let touched = false;
    category.addEventListener("change", () => { touched = true; mealBox.hidden = category.value !== "meal_delivery"; });
    let timer = null;
    text.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(async () => {
        if (!text.value.trim()) return;
        try {
          const s = await post("/requests/suggestion", { community_id: cid, text: text.value });
          hint.textContent = `按文字建议：${s.category_name}${s.team ? "，转" + s.team.name : ""}`;
          if (!touched) category.value = s.category;
          if (s.meal && !touched) { day.value = s.meal.day; meal.value = s.meal.meal; portions.value = s.meal.portions; }
          mealBox.hidden = category.value !== "meal_delivery";
        } catch (e) { hint.textContent = ""; }
      }, 300);
    });
    const form = submitting(h("form", { "aria-label": "代居民登记" },
      h("div", { class: "row" }, field("来源", via), grid ? field("网格", grid) : null),
      h("fieldset", {}, h("legend", {}, "居民（可不填）"),
        h("div", { class: "row" }, field("姓名", name), field("电话", phone)), field("地址", address),
        h("label", { class: "inline", for: consent.id }, consent, "居民同意留下电话和地址，只用于这次服务"),
        field("居民在微信里提交过的纸条编号", earlier, "有的话填上，这次的编号和进度也会在微信里告诉居民。")),
      field("居民的需求", text, "照居民的原话写。类别会按文字自动建议，可以改。"), hint,
      field("类别", category), mealBox,
      h("div", { class: "actions" }, h("button", { type: "submit", id: "file-submit" }, "提交纸条"))), async () => {
      const contact = { name: name.value.trim() || undefined, phone: phone.value.trim() || undefined, address: address.value.trim() || undefined };
      if ((contact.phone || contact.address) && !consent.checked) throw new Error("留电话或地址前，请先征得居民同意并勾选");
      const body = { community_id: cid, text: text.value.trim(), category: category.value, via: via.value, consent: consent.checked,
        contact: Object.values(contact).some(Boolean) ? contact : undefined, grid: grid && grid.value ? grid.value : undefined,
        resident_request: earlier.value.trim().toUpperCase() || undefined,
        meal: category.value === "meal_delivery" ? { day: day.value, meal: meal.value, portions: Number(portions.value) || 1 } : undefined };
      const req = await post("/requests", body);
      result.replaceChildren(h("div", { class: "card" },
        h("h2", { tabindex: "-1" }, `已登记：纸条 ${req.number}`),
        h("p", {}, `${req.category_name}`, req.team_id ? `，转${(detail.teams.find((t) => t.id === req.team_id) || {}).name || req.team_id}` : "",
          (req.flags || []).length ? `（${req.flags.map((f) => C.FLAGS[f] || f).join("、")}）` : ""),
        told(req, contact.phone), h("p", {}, h("a", { href: "#/requests/" + encodeURIComponent(req.number) }, `打开纸条 ${req.number}`))));
      form.reset();
      mealBox.hidden = true;
      hint.textContent = "";
      touched = false;
      result.querySelector("h2").focus();
    });
    return [h("h1", {}, `代居民登记 · ${detail.name}`), await C.communityPicker(), result, form,
      h("p", { class: "hint" }, `登记人：${session.user.display_name}。提交后和居民在微信里提交的一样编号、派单、计时。`)];
  }

  C.register("file", pageFile, { nav: "代居民登记", needs: "role:social_worker,director,district_admin" });
})();
