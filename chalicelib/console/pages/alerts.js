/* 我的微信提醒: bind one's WeChat to this console account (a one-time code sent as “绑定 XXXXXXXX” to the
   community's account or 微市南), choose what to hear, unbind in one click; the latest notices (the badge).
   Uses /api/v1/me/alerts… */
"use strict";
(function () {
  const C = window.Console;
  const { h, get, post, api, toast, submitting, fmt } = C;

  async function pageAlerts() {
    document.title = "我的微信提醒 · 社区工作台";
    const me = await get("/me/alerts");
    const out = [h("h1", {}, "我的微信提醒")];
    if (me.bound) {
      out.push(h("p", { id: "binding-state" }, `已绑定微信：${me.account_name || me.account_id}（${fmt(me.bound_at)} 绑定）。`),
        h("div", { class: "actions" }, h("button", { type: "button", class: "danger", id: "unbind", onclick: async (e) => {
          e.target.disabled = true;
          try { await api("DELETE", "/me/alerts/binding"); toast("已解除绑定，不再发微信提醒"); await C.route(); }
          catch (err) { if (err.status !== 401) toast(err.message); e.target.disabled = false; }
        } }, "解除绑定")));
    } else {
      const codeBox = h("div", { "aria-live": "polite" });
      out.push(h("p", { id: "binding-state" }, "还没有绑定微信。绑定后，新纸条、派单、超时和待审稿件会发到您的微信（每 "
        + me.window_minutes + " 分钟最多一条汇总）。"),
        h("div", { class: "actions" }, h("button", { type: "button", id: "get-code", onclick: async (e) => {
          e.target.disabled = true;
          try {
            const c = await post("/me/alerts/code", {});
            codeBox.replaceChildren(h("div", { class: "card" },
              h("p", {}, "请在 10 分钟内，用您自己的微信向下列任一公众号发送："),
              h("p", { class: "big" }, h("code", { id: "binding-message" }, c.message)),
              h("ul", {}, c.accounts.map((a) => h("li", {}, a.name))),
              h("p", { class: "hint" }, `绑定码 ${fmt(c.expires_at)} 失效，只能用一次。发送后刷新本页即可看到绑定状态。`)));
          } catch (err) { if (err.status !== 401) toast(err.message); }
          e.target.disabled = false;
        } }, "获取绑定码")), codeBox);
    }
    const boxes = Object.entries(me.kinds).map(([k, label]) => {
      const box = h("input", { type: "checkbox", name: "alert_kinds", value: k, id: "kind-" + k, checked: me.alert_kinds.includes(k) });
      return h("label", { class: "inline", for: box.id }, box, label);
    });
    out.push(h("h2", {}, "接收哪些提醒"), submitting(h("form", { "aria-label": "接收哪些提醒" },
      h("fieldset", {}, h("legend", {}, "提醒内容"), boxes),
      h("div", { class: "actions" }, h("button", { type: "submit", class: "secondary" }, "保存"))), async (_, form) => {
      const chosen = [...document.querySelectorAll('input[name="alert_kinds"]:checked')].map((b) => b.value);
      await api("PUT", "/me/alerts", { alert_kinds: chosen });
      toast("已保存");
    }));
    out.push(h("h2", {}, "最近的通知"), me.notices.length ? h("ul", { class: "cards", id: "notices" }, me.notices.map((n) =>
      h("li", { class: "card" }, h("p", { class: "meta" }, fmt(n.at)), h("p", { class: "text" }, n.text),
        n.post_id ? h("a", { href: "#/post/" + encodeURIComponent(n.post_id) }, "查看稿件") : null)))
      : h("p", {}, "没有通知。"));
    return out;
  }

  C.register("alerts", pageAlerts, { nav: "微信提醒" });
})();
