/* 信息发布: the month calendar of a community's posts, the editor with a phone-sized preview, the review
   desk per role with counts (also a badge in the navigation and a section on the home page), and each
   post's history. Built with DOM calls only; the article's HTML is shown in the preview through an
   allow-list of tags and attributes (never innerHTML). */
"use strict";

(function () {
  const C = window.Console;
  const { h, field, select, get, post, api, qs, toast, submitting, currentCommunity, communityPicker,
    communityDetail, fmt, today } = C;
  const STATE = {
    topic: "选题", draft: "编写中", first_review: "待一审", second_review: "待二审", scheduled: "已批准待发",
    sent: "已发送", failed: "发送失败",
  };
  const OUTCOME = { sent: "已发送", filtered: "被微信过滤", failed: "发送失败", missed: "缺稿", claimed: "发送中" };
  const STEP = {
    start: "开始编写", submit: "提交一审", approve: "审核通过", send_back: "退回修改", withdraw: "撤回修改",
  };
  // Send times: the hours and half hours 06:00–22:00 (daily-post runs every half hour).
  const SLOTS = Array.from({ length: 33 }, (_, i) => `${String(6 + Math.floor(i / 2)).padStart(2, "0")}:${i % 2 ? "30" : "00"}`);
  const WECHAT_IMAGE = /^(https?:)?\/\/([a-z0-9-]+\.)*(mmbiz\.qpic\.cn|mmbiz\.qlogo\.cn|mmecoa\.qpic\.cn)\//i;

  const badge = (state) => h("span", { class: "badge " + state }, STATE[state] || state);
  const put = (path, body) => api("PUT", path, body);
  const enc = encodeURIComponent;
  const wechatBytes = (s) => Array.from(s || "").reduce((n, ch) => n + (ch.charCodeAt(0) < 128 ? 1 : 2), 0);

  // ---- the article as WeChat shows it: an allow-list of tags and attributes -----------------------

  const TAGS = new Set(["p", "br", "strong", "b", "em", "i", "u", "span", "section", "h1", "h2", "h3", "h4",
    "ul", "ol", "li", "blockquote", "a", "img", "hr"]);
  function safeNodes(html) {
    const doc = new DOMParser().parseFromString("<body>" + (html || "") + "</body>", "text/html");
    const walk = (node) => {
      if (node.nodeType === Node.TEXT_NODE) return document.createTextNode(node.textContent);
      if (node.nodeType !== Node.ELEMENT_NODE) return null;
      const tag = node.tagName.toLowerCase();
      const kids = Array.from(node.childNodes).map(walk).filter(Boolean);
      if (!TAGS.has(tag)) return kids.length ? h("span", {}, kids) : null;
      const attrs = {};
      if (tag === "img") {
        const src = node.getAttribute("src") || "";
        attrs.alt = node.getAttribute("alt") || "";
        if (WECHAT_IMAGE.test(src)) attrs.src = src; else return h("span", { class: "error" }, "［外部图片会被微信过滤］");
      }
      if (tag === "a") { attrs.href = "#"; attrs.title = node.getAttribute("href") || ""; }
      return h(tag, attrs, kids);
    };
    return Array.from(doc.body.childNodes).map(walk).filter(Boolean);
  }
  function phone(article, accountName, day) {
    const a = article || {};
    return h("div", { class: "phone", role: "region", "aria-label": "手机预览", tabindex: "0" },
      a.cover_url && WECHAT_IMAGE.test(a.cover_url) ? h("img", { class: "cover", src: a.cover_url, alt: "封面：" + (a.title || "") }) : null,
      h("h2", {}, a.title || "（标题）"),
      h("div", { class: "wx-meta" }, [a.author, accountName, day].filter(Boolean).join("  ")),
      h("div", {}, safeNodes(a.content)),
      a.content_source_url ? h("p", { class: "wx-meta" }, "阅读原文") : null);
  }

  // ---- calendar ---------------------------------------------------------------------------------

  async function pageCalendar(r) {
    document.title = "发布日历 · 社区工作台";
    const cid = await currentCommunity();
    if (!cid) return [h("h1", {}, "发布日历"), h("p", {}, "没有可管理的社区。")];
    const month = r.params.get("month") || today().slice(0, 7);
    const [cal, detail] = await Promise.all([get(`/communities/${enc(cid)}/post-calendar` + qs({ month })), communityDetail(cid)]);
    const first = new Date(cal.month + "-01T00:00:00Z");
    const shift = (n) => { const d = new Date(first); d.setUTCMonth(d.getUTCMonth() + n); return d.toISOString().slice(0, 7); };
    const lead = (first.getUTCDay() + 6) % 7;  // Monday first
    const cells = ["一", "二", "三", "四", "五", "六", "日"].map((d) => h("div", { class: "dow", "aria-hidden": "true" }, "周" + d));
    for (let i = 0; i < lead; i++) cells.push(h("div", { class: "day blank", "aria-hidden": "true" }));
    const counts = { planned: 0, approved: 0, sent: 0, missed: 0 };
    for (const d of cal.days) {
      for (const p of d.posts) {
        if (p.state === "scheduled") counts.approved++; else if (p.state === "sent") counts.sent++; else if (p.state !== "failed") counts.planned++;
      }
      if (d.outcome === "missed") counts.missed++;
      cells.push(h("div", { class: "day" + (d.day === cal.today ? " today" : ""), "data-day": d.day },
        h("strong", {}, String(Number(d.day.slice(8)))),
        d.outcome ? [" ", h("span", { class: "outcome " + d.outcome }, OUTCOME[d.outcome] || d.outcome)] : null,
        d.mode === "freepublish" ? h("p", { class: "hint" }, "已发表，未推送通知") : null,
        d.posts.map((p) => h("a", { href: "#/post/" + enc(p.post_id) }, `${p.slot} ${p.topic} `, badge(p.state))),
        d.day >= cal.today ? h("a", { href: "#/post/new?day=" + d.day, "aria-label": `${d.day} 新建选题` }, "＋") : null));
    }
    const user = C.session.user || {};
    let postTime = h("p", {}, `每日发布时间：${cal.post_time}（北京时间；新稿件默认这个时间）`);
    if (user.role === "director" || user.role === "district_admin") {
      const time = select("time", SLOTS.map((s) => [s, s]), cal.post_time);
      postTime = h("form", { class: "inline", "aria-label": "每日发布时间" },
        field("每日发布时间（北京时间；新稿件默认这个时间）", time), h("button", { type: "submit" }, "保存"));
      submitting(postTime, async () => {
        await api("PUT", `/communities/${enc(cid)}/post-time`, { time: time.value });
        toast(`每日发布时间已改为 ${time.value}`);
      });
    }
    return [h("h1", {}, `发布日历 · ${detail.name}`), await communityPicker(), postTime,
      h("p", {}, `本月：计划中 ${counts.planned} · 已批准 ${counts.approved} · 已发送 ${counts.sent} · 缺稿 ${counts.missed}`),
      h("nav", { class: "actions", "aria-label": "月份" },
        h("a", { class: "button secondary", href: "#/posts?month=" + shift(-1) }, "上个月"),
        h("span", {}, cal.month),
        h("a", { class: "button secondary", href: "#/posts?month=" + shift(1) }, "下个月"),
        h("a", { class: "button", href: "#/post/new?day=" + cal.today }, "新建选题")),
      h("section", { class: "post-cal", "aria-label": `${cal.month} 的发布日历` }, cells),
      h("p", { class: "hint" }, "订阅号每天可群发一次；服务号每月群发四次，用完后改为“发表”，发表不会推送通知给关注者。")];
  }

  // ---- a post: editor, preview, checks, diff, steps, history ------------------------------------

  function findingsList(findings) {
    if (!findings || !findings.length) return h("p", {}, "检查未发现问题。");
    const CHECK = { text: "文字关", time: "时间关", policy: "政策关" };
    return h("ul", { class: "findings" }, findings.map((f) => h("li", { class: f.level },
      `【${CHECK[f.check] || f.check}】${f.level === "block" ? "必须修改" : "提醒"}：`, f.article ? `第${f.article}篇 ` : "", f.message)));
  }
  function diffView(lines) {
    if (!lines || !lines.length) return h("p", {}, "自上次审核以来没有改动。");
    return h("div", { class: "diff", role: "region", "aria-label": "自上次审核的改动", tabindex: "0" }, lines.map((l) =>
      h("span", { class: l.startsWith("+") && !l.startsWith("+++") ? "add" : l.startsWith("-") && !l.startsWith("---") ? "del" : "" }, l + "\n")));
  }
  function historyTable(events) {
    return h("div", { class: "table-wrap" }, h("table", { class: "stack" },
      h("thead", {}, h("tr", {}, ["时间", "操作", "操作人", "状态", "意见"].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, events.map((e) => h("tr", {},
        h("td", { "data-label": "时间" }, fmt(e.at)), h("td", { "data-label": "操作" }, e.label || e.action),
        h("td", { "data-label": "操作人" }, e.by || ""),
        h("td", { "data-label": "状态" }, e.to ? `${STATE[e.from] || "—"} → ${STATE[e.to] || e.to}` : "—"),
        h("td", { "data-label": "意见" }, e.comment || ""))))));
  }

  async function fileToBase64(file) {
    const buf = new Uint8Array(await file.arrayBuffer());
    let s = "";
    for (let i = 0; i < buf.length; i += 0x8000) s += String.fromCharCode.apply(null, buf.subarray(i, i + 0x8000));
    return btoa(s);
  }

  async function pagePost(r) {
    const cid = await currentCommunity();
    const isNew = r.arg === "new";
    const p = isNew ? null : await get("/posts/" + enc(r.arg));
    const community = p ? p.community_id : cid;
    const detail = await communityDetail(community);
    const accountName = detail.account ? detail.account.name : detail.name;
    document.title = (p ? p.topic : "新建选题") + " · 信息发布";
    const art = (p && p.articles[0]) || { title: "", author: "", digest: "", content: "", cover_media_id: "", cover_url: "", content_source_url: "", comments_open: false };
    const editable = isNew || p.actions.includes("edit");
    const topic = h("input", { name: "topic", required: true, value: p ? p.topic : "" });
    const day = h("input", { name: "planned_day", type: "date", required: true, value: p ? p.planned_day : (r.params.get("day") || today(1)) });
    const slot = select("slot", (p ? [] : [["", "本号每日发布时间"]]).concat(SLOTS.map((s) => [s, s])), p ? p.slot : "");
    const expires = h("input", { name: "expires_on", type: "date", value: p && p.expires_on ? p.expires_on : "" });
    const title = h("input", { name: "title", value: art.title });
    const titleCount = h("span", { class: "hint", "aria-live": "polite" });
    const author = h("input", { name: "author", value: art.author });
    const digest = h("textarea", { name: "digest", rows: 2, maxlength: 120 }, art.digest);
    const content = h("textarea", { name: "content", rows: 14 }, art.content);
    const source = h("input", { name: "content_source_url", type: "url", value: art.content_source_url });
    const comments = h("input", { name: "comments_open", type: "checkbox", checked: !!art.comments_open });
    const cover = { media_id: art.cover_media_id, url: art.cover_url };
    const coverFile = h("input", { type: "file", accept: "image/png,image/jpeg", name: "cover" });
    const bodyFile = h("input", { type: "file", accept: "image/png,image/jpeg", name: "body_image" });
    const preview = h("div", {});
    const current = () => ({ title: title.value.trim(), author: author.value.trim(), digest: digest.value.trim(), content: content.value,
      cover_media_id: cover.media_id || "", cover_url: cover.url || "", content_source_url: source.value.trim(), comments_open: comments.checked });
    const refresh = () => {
      const n = wechatBytes(title.value);
      titleCount.textContent = `标题 ${n}/64 字节（汉字按2字节计）`;
      titleCount.className = n > 64 ? "error" : "hint";
      preview.replaceChildren(phone(current(), accountName, day.value));
    };
    for (const el of [title, author, digest, content, source, day]) el.addEventListener("input", refresh);
    for (const el of [topic, day, slot, expires, title, author, digest, content, source, comments, coverFile, bodyFile]) el.disabled = !editable;
    coverFile.addEventListener("change", async () => {
      if (!coverFile.files.length) return;
      try {
        const up = await post("/publishing/images", { community_id: community, kind: "cover", data_base64: await fileToBase64(coverFile.files[0]) });
        cover.media_id = up.media_id; cover.url = up.url; refresh(); toast("封面已上传到微信");
      } catch (e) { toast(e.message); }
    });
    bodyFile.addEventListener("change", async () => {
      if (!bodyFile.files.length) return;
      try {
        const up = await post("/publishing/images", { community_id: community, kind: "body", data_base64: await fileToBase64(bodyFile.files[0]) });
        content.value += `\n<p><img src="${up.url}" alt="请填写图片说明"></p>`; refresh(); toast("图片已上传，请补上图片说明（alt）");
      } catch (e) { toast(e.message); }
    });
    refresh();

    const form = h("form", { "aria-label": "编辑稿件" },
      field("选题", topic), h("div", { class: "row" }, field("计划发送日", day), field("发送时间", slot), field("有效期至（活动类）", expires, "过了这一天就不能再发")),
      h("h2", {}, "文章"), field("标题", title), titleCount, field("作者", author), field("摘要（最多120字）", digest),
      field("封面（上传为永久素材）", coverFile, cover.media_id ? "已有封面" : "还没有封面"),
      field("正文（HTML）", content, "图片必须先上传到微信；外部图片会被拒绝"), field("插入正文图片", bodyFile),
      field("阅读原文链接", source), h("div", {}, h("label", {}, comments, " 开启留言")),
      editable ? h("div", { class: "actions" }, h("button", { type: "submit" }, isNew ? "保存选题" : "保存修改"),
        h("button", { type: "button", class: "secondary", onclick: async () => {
          const out = await post("/publishing/check", { community_id: community, articles: [current()] });
          checkBox.replaceChildren(findingsList(out.findings));
        } }, "文字检查")) : h("p", { class: "hint" }, p && p.locked ? "审核中，稿件已锁定。" : ""));
    const checkBox = h("div", { "aria-live": "polite" });
    submitting(form, async () => {
      const hasText = title.value.trim() || content.value.trim();
      const body = { topic: topic.value, planned_day: day.value, slot: slot.value, expires_on: expires.value || null };
      if (hasText) body.articles = [current()].concat(p ? p.articles.slice(1) : []);
      if (isNew) {
        body.community_id = community;
        const made = await post("/posts", body);
        toast("已保存"); location.hash = "#/post/" + enc(made.post_id);
      } else {
        body.version = p.version;
        const saved = await put("/posts/" + enc(p.post_id), body);
        toast(saved.state !== p.state ? `已保存，稿件回到“${STATE[saved.state]}”` : "已保存");
        C.route();
      }
    });

    const out = [h("h1", {}, p ? `稿件：${p.topic}` : "新建选题")];
    if (p) out.push(h("p", {}, badge(p.state), ` ${p.planned_day} ${p.slot} · 第${p.revision}版 · ${detail.name}`));
    if (p && p.actions.some((a) => a !== "edit")) out.push(stepsForm(p));
    out.push(h("div", { class: "post-edit" }, h("div", {}, form, checkBox), h("div", {}, h("h2", {}, "手机预览"), preview)));
    if (p) {
      out.push(h("h2", {}, "检查结果（文字关、时间关）"), findingsList(p.findings),
        h("h2", {}, "自上次审核以来的改动"), diffView(p.diff),
        h("h2", {}, "审核与修改记录"), historyTable(p.history));
    }
    return out;
  }

  function stepsForm(p) {
    const comment = h("textarea", { name: "comment", rows: 3 });
    const ticks = p.state === "second_review" ? (p.policy_checklist || []).map((item) =>
      h("div", {}, h("label", {}, h("input", { type: "checkbox", name: "checklist", value: item.id }), " ", item.label, item.required ? "（必选）" : ""))) : [];
    const form = h("form", { "aria-label": "审核操作" }, h("h2", {}, "流程操作"),
      ticks.length ? h("fieldset", {}, h("legend", {}, "政策关清单"), ticks) : null,
      p.actions.includes("send_back") ? field("审核意见（退回时必填）", comment) : null,
      h("div", { class: "actions" }, p.actions.filter((a) => a !== "edit").map((a) =>
        h("button", { type: "submit", value: a, class: a === "send_back" ? "secondary" : "" }, STEP[a] || a))));
    submitting(form, async (button) => {
      const action = button ? button.value : p.actions[0];
      const checklist = Array.from(form.querySelectorAll('input[name="checklist"]:checked')).map((i) => i.value);
      const done = await post(`/posts/${enc(p.post_id)}/steps`, { action, comment: comment.value, checklist });
      toast(`${STEP[action] || action}：稿件现在“${STATE[done.state]}”`);
      refreshBadge();
      C.route();
    });
    return form;
  }

  // ---- the review desk and its badge ------------------------------------------------------------

  async function pageDesk() {
    document.title = "待审稿件 · 社区工作台";
    const q = await get("/publishing/queue");
    const NAMES = { first_review: "待一审", second_review: "待二审", draft: "编写中（含退回）", topic: "选题" };
    return [h("h1", {}, "待审稿件"),
      h("ul", { class: "counts" }, Object.entries(q.counts).map(([k, n]) => h("li", {}, h("span", {}, h("b", {}, String(n)), NAMES[k] || k)))),
      q.items.length ? h("ul", { class: "cards" }, q.items.map((i) => h("li", { class: "card" },
        h("a", { class: "title", href: "#/post/" + enc(i.post_id) }, i.topic), " ", badge(i.state),
        h("p", { class: "meta" }, `${i.planned_day} ${i.slot} · ${i.community_id}`)))) : h("p", {}, "没有待办的稿件。"),
      h("h2", {}, "通知"), q.notices.length ? h("ul", {}, q.notices.map((n) => h("li", {},
        n.post_id ? h("a", { href: "#/post/" + enc(n.post_id) }, n.text) : n.text, h("span", { class: "meta" }, " " + fmt(n.at))))) : h("p", {}, "没有通知。")];
  }

  function waiting(q) {
    const user = C.session.user || {};
    if (user.role === "director") return q.counts.first_review || 0;
    if (user.role === "subdistrict_reviewer" || user.role === "district_admin") return q.counts.second_review || 0;
    return (q.counts.draft || 0) + (q.counts.topic || 0);
  }
  async function refreshBadge() {
    const link = document.querySelector('#nav a[data-page="desk"]');
    if (!link || !C.session.token || !C.session.user) return;
    try {
      const n = waiting(await get("/publishing/queue"));
      link.querySelector(".nav-count")?.remove();
      if (n) link.append(h("span", { class: "nav-count", "aria-label": `${n} 件待办` }, String(n)));
      const home = document.getElementById("main");
      if (location.hash.startsWith("#/home") && home && home.querySelector("h1") && !home.querySelector("#post-desk")) {
        home.append(h("section", { id: "post-desk" }, h("h2", {}, `待审稿件（${n}）`), h("a", { href: "#/desk" }, "去审核")));
      }
    } catch (e) { /* the badge is a convenience: the page itself shows errors */ }
  }
  const watch = () => setTimeout(refreshBadge, 300);
  window.addEventListener("hashchange", watch);
  document.addEventListener("DOMContentLoaded", watch);

  C.register("posts", pageCalendar, { nav: "发布日历", needs: "role:social_worker,director,subdistrict_reviewer,district_admin" });
  C.register("desk", pageDesk, { nav: "待审稿件", needs: "role:social_worker,director,subdistrict_reviewer,district_admin" });
  C.register("post", pagePost, {});
})();
