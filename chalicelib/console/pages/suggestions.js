/* 意见建议: the director's queue of residents' suggestions; an answer reaches the resident. The month's
   counts (filed, answered) are shown for the bulletin. Uses /api/v1/suggestions… */
"use strict";
(function () {
  const C = window.Console;
  const { h, field, post, get, toast, submitting, fmt, qs } = C;

  async function pageSuggestions(r) {
    document.title = "意见建议 · 社区工作台";
    const cid = await C.currentCommunity();
    const state = r.params.get("state") || "open";
    const [list, counts, d] = await Promise.all([get("/suggestions" + qs({ community: cid, state })),
      get("/suggestions/counts" + qs({ community: cid })), C.communityDetail(cid)]);
    const cards = list.items.map((s) => {
      const answer = h("textarea", { name: "answer", rows: 3, required: true });
      const form = s.state === "open" ? submitting(h("form", {}, field("答复", answer),
        h("div", { class: "actions" }, h("button", { type: "submit" }, "答复居民"))), async () => {
        await post(`/suggestions/${encodeURIComponent(s.id)}/answer`, { answer: answer.value });
        toast("已答复，居民会收到");
        C.route();
      }) : h("p", {}, `答复：${s.answer}（${fmt(s.answered_at)}）`);
      return h("li", { class: "card" }, h("p", {}, h("b", {}, s.id), ` · ${fmt(s.created_at)} · ${s.state_name}`),
        h("p", {}, s.text), form);
    });
    return [h("h1", {}, `意见建议 · ${d.name}`), await C.communityPicker(),
      h("p", {}, `本月收到 ${counts.filed} 条，已答复 ${counts.answered} 条。`),
      h("nav", { class: "actions", "aria-label": "筛选" },
        h("a", { class: "button" + (state === "open" ? "" : " secondary"), href: "#/suggestions?state=open" }, "待答复"),
        h("a", { class: "button" + (state === "answered" ? "" : " secondary"), href: "#/suggestions?state=answered" }, "已答复")),
      cards.length ? h("ul", { class: "cards" }, cards) : h("p", {}, "没有建议。")];
  }

  C.register("suggestions", pageSuggestions, { nav: "意见建议", needs: "role:director,district_admin" });
})();
