/* 人员与账号: a director manages the social workers and service-team members of their community, the district
   admin every account (a community's, or the district's own: admins, sub-district reviewers, departments).
   Create with a one-time password (shown once), deactivate, reactivate, reset a password, unlock, change a role;
   new service teams. Also the page a one-time password leads to: 设置新密码. Uses /api/v1/staff… */
"use strict";
(function () {
  const C = window.Console;
  const { h, field, select, get, post, toast, submitting, session, fmt } = C;
  const DISTRICT = "__district__";

  function secretBox(label, password) {
    return h("div", { class: "card", role: "alert", id: "one-time-password" },
      h("p", {}, label), h("p", {}, "一次性密码：", h("code", { class: "otp" }, password)),
      h("p", { class: "hint" }, "只显示这一次。请当面或电话告诉本人；首次登录后必须修改。"));
  }

  async function pagePeople(r) {
    document.title = "人员与账号 · 社区工作台";
    const user = session.user;
    const admin = user.role === "district_admin";
    let community = user.scope.community_id;
    const out = [h("h1", {}, "人员与账号")];
    if (admin) {
      const list = await C.communities();
      community = r.params.get("community") || DISTRICT;
      const sel = select("community", [[DISTRICT, "区、街道和部门的账号"], ...list.map((c) => [c.id, c.name])], community);
      sel.addEventListener("change", () => { location.hash = "#/people?community=" + encodeURIComponent(sel.value); });
      out.push(h("div", { class: "row" }, field("查看", sel)));
    }
    const data = await get("/staff" + C.qs({ community: community === DISTRICT ? null : community }));
    const notice = h("div", { "aria-live": "polite" });
    out.push(notice);
    const reload = async (message, password, who) => {
      await C.route();
      if (message) toast(message);
      if (password) document.querySelector("#main h1").after(secretBox(who, password));
    };

    // the list
    const rows = data.items.map((u) => {
      const state = !u.active ? h("span", { class: "badge cancelled" }, "已停用")
        : u.locked ? h("span", { class: "badge overdue" }, "已锁定")
          : u.must_change_password ? h("span", { class: "badge" }, "待改密码") : h("span", { class: "badge done" }, "正常");
      const act = (action, text, extra) => h("button", {
        type: "button", class: action === "deactivate" ? "danger" : "secondary", "aria-label": `${text} ${u.display_name}`,
        onclick: async (e) => {
          if (action === "deactivate" && !window.confirm(`确定停用 ${u.label} 的账号吗？停用后立即退出登录。`)) return;
          e.target.disabled = true;
          try {
            const done = await post(`/staff/${encodeURIComponent(u.username)}/actions`, { action, ...(extra ? extra() : {}) });
            await reload(`${u.label}：${text}`, done.one_time_password, `${u.label} 的新密码`);
          } catch (err) { if (err.status !== 401) toast(err.message); e.target.disabled = false; }
        } }, text);
      const buttons = u.manageable ? [
        u.active ? act("deactivate", "停用") : act("reactivate", "恢复"),
        act("reset_password", "重置密码"),
        u.locked ? act("unlock", "解锁") : null,
      ] : [];
      let roleForm = null;
      if (u.manageable) {
        const role = select("role", Object.entries(data.roles), u.role);
        const team = data.teams ? select("team_id", data.teams.map((t) => [t.id, t.name]), u.team_id || (data.teams[0] || {}).id) : null;
        const teamField = team ? field("服务队（服务队员）", team) : null;
        const showTeam = () => { if (teamField) teamField.hidden = role.value !== "team_member"; };
        role.addEventListener("change", showTeam);
        showTeam();
        roleForm = submitting(h("form", { class: "row", "aria-label": `改 ${u.display_name} 的角色` },
          field("角色", role), teamField,
          h("div", { class: "narrow" }, h("button", { type: "submit", class: "secondary" }, "改角色"))), async () => {
          if (role.value === u.role && (!team || role.value !== "team_member" || team.value === u.team_id)) return;
          await post(`/staff/${encodeURIComponent(u.username)}/actions`, {
            action: "change_role", role: role.value, team_id: team && role.value === "team_member" ? team.value : undefined,
            community_id: community && community !== DISTRICT ? community : undefined });
          await reload(`${u.display_name} 改为 ${data.roles[role.value]}`);
        });
      }
      return h("li", { class: "card", "data-username": u.username },
        h("p", {}, h("b", {}, u.label), " ", state, u.wechat_bound ? [" ", h("span", { class: "badge" }, "已绑定微信")] : null),
        h("p", { class: "meta" }, `账号 ${u.username}`, u.team_id ? ` · 服务队 ${teamName(data, u.team_id)}` : "",
          u.recent_failures ? ` · 近期登录失败 ${u.recent_failures} 次` : ""),
        buttons.length ? h("div", { class: "actions" }, buttons) : null, roleForm,
        h("p", {}, h("a", { href: "#/person/" + encodeURIComponent(u.username) }, `${u.display_name}的变更记录`)));
    });
    out.push(h("h2", {}, `账号（${data.items.length}）`), rows.length ? h("ul", { class: "cards" }, rows) : h("p", {}, "没有账号。"));

    // a new account
    const username = h("input", { name: "username", required: true, autocapitalize: "off", spellcheck: "false", maxlength: 64 });
    const name = h("input", { name: "display_name", required: true, maxlength: 20 });
    const role = select("role", Object.entries(data.roles).filter(([k]) => community === DISTRICT
      ? ["district_admin", "subdistrict_reviewer", "department"].includes(k)
      : ["social_worker", "director", "team_member"].includes(k)), community === DISTRICT ? "subdistrict_reviewer" : "social_worker");
    const scopeField = h("div", {});
    let scopeControl = null;
    const showScope = () => {
      scopeControl = null;
      if (role.value === "team_member" && data.teams) {
        scopeControl = select("team_id", data.teams.map((t) => [t.id, t.name]));
        scopeField.replaceChildren(data.teams.length ? field("服务队", scopeControl) : h("p", {}, "本社区还没有服务队，请先新建服务队。"));
      } else if (role.value === "subdistrict_reviewer" && data.subdistricts) {
        scopeControl = select("subdistrict_id", data.subdistricts.map((s) => [s.id, s.name]));
        scopeField.replaceChildren(field("街道", scopeControl));
      } else if (role.value === "department" && data.departments) {
        scopeControl = select("department_id", data.departments.map((d) => [d.id, d.name]));
        scopeField.replaceChildren(field("对接部门", scopeControl));
      } else scopeField.replaceChildren();
    };
    role.addEventListener("change", showScope);
    showScope();
    out.push(h("h2", {}, "新建账号"), submitting(h("form", { "aria-label": "新建账号" },
      h("div", { class: "row" }, field("账号", username, "小写字母、数字和点，例如 sw2.xianggang-huayuan"), field("姓名", name)),
      h("div", { class: "row" }, field("角色", role), scopeField),
      h("div", { class: "actions" }, h("button", { type: "submit", id: "create-staff" }, "新建账号"))), async () => {
      const body = { username: username.value.trim().toLowerCase(), display_name: name.value.trim(), role: role.value };
      if (scopeControl) body[scopeControl.name] = scopeControl.value;
      if (community && community !== DISTRICT) body.community_id = community;
      const made = await post("/staff", body);
      await reload(`已新建 ${made.user.label}`, made.one_time_password, `${made.user.label}（账号 ${made.user.username}）`);
    }));

    // a new service team
    if (data.teams) {
      const teamName_ = h("input", { name: "name", required: true, maxlength: 40 });
      const kind = select("kind", Object.entries(C.VOCABULARY.team_kinds), "volunteer");
      out.push(h("h2", {}, `服务队（${data.teams.length}）`),
        data.teams.length ? h("ul", {}, data.teams.map((t) => h("li", {}, `${t.name}（${t.kind_name}）`))) : h("p", {}, "没有服务队。"),
        submitting(h("form", { "aria-label": "新建服务队" }, h("div", { class: "row" }, field("服务队名称", teamName_), field("类型", kind),
          h("div", { class: "narrow" }, h("button", { type: "submit", class: "secondary" }, "新建服务队")))), async () => {
          const t = await post(`/communities/${encodeURIComponent(data.community_id)}/teams`, { name: teamName_.value.trim(), kind: kind.value });
          await reload(`已新建服务队：${t.name}`);
        }));
    }
    return out;
  }

  function teamName(data, id) {
    return ((data.teams || []).find((t) => t.id === id) || {}).name || id;
  }

  async function pagePerson(r) {
    const u = await get("/staff/" + encodeURIComponent(r.arg));
    document.title = `${u.display_name} · 人员与账号`;
    return [h("p", {}, h("a", { href: "#/people" }, "← 返回人员与账号")), h("h1", {}, u.label),
      h("dl", { class: "facts" }, h("dt", {}, "账号"), h("dd", {}, u.username), h("dt", {}, "状态"),
        h("dd", {}, u.active ? (u.locked ? "已锁定" : "正常") : "已停用"), h("dt", {}, "微信提醒"), h("dd", {}, u.wechat_bound ? "已绑定" : "未绑定")),
      h("h2", {}, "变更记录"), u.history.length ? h("ol", { class: "timeline" }, u.history.map((e) => h("li", {},
        h("strong", {}, e.action_name), h("br"), h("span", { class: "meta" }, `${fmt(e.at)} · ${e.actor_label}`),
        e.fields && e.fields.role ? h("div", {}, `角色：${C.ROLES[e.fields.from_role] || e.fields.from_role || ""} → ${C.ROLES[e.fields.role] || e.fields.role}`) : null)))
        : h("p", {}, "没有记录。")];
  }

  function pagePassword() {
    document.title = "设置新密码 · 社区工作台";
    const user = session.user;
    const oldPw = h("input", { type: "password", name: "old_password", autocomplete: "current-password", required: true });
    const newPw = h("input", { type: "password", name: "new_password", autocomplete: "new-password", required: true, minlength: 10 });
    const again = h("input", { type: "password", name: "new_password_again", autocomplete: "new-password", required: true, minlength: 10 });
    const form = submitting(h("form", { "aria-label": "设置新密码" },
      field("一次性密码（或原密码）", oldPw), field("新密码", newPw, "至少 10 个字符，不能与账号相同。"), field("再输入一次新密码", again),
      h("div", { class: "actions" }, h("button", { type: "submit" }, "设置新密码"))), async () => {
      if (newPw.value !== again.value) throw new Error("两次输入的新密码不一样");
      const data = await post("/auth/password", { old_password: oldPw.value, new_password: newPw.value });
      session.save(data.token, data.user);
      C.go("home", "新密码已设置");
    });
    return [h("h1", {}, "设置新密码"),
      user.must_change_password ? h("p", { role: "alert" }, `${user.display_name}，您正在使用一次性密码登录，请先设置自己的新密码。`) : null, form];
  }

  C.register("people", pagePeople, { nav: "人员与账号", needs: "role:director,district_admin" });
  C.register("person", pagePerson, {});
  C.register("password", pagePassword, {});
})();
