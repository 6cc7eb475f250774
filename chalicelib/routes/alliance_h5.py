"""Residents' H5 pages of the alliance: the matrix by category with search (微信联盟 / 微博联盟).

Same house style as `routes/h5.py` (its stylesheet and page frame are imported, not copied): rendered on
the server, no script, large type, every control labelled. The matrix is public: no sign-in.
"""
from __future__ import annotations

import html
from urllib.parse import quote

from chalice import Blueprint, Response

from chalicelib.domain.matrix import CATEGORIES
from chalicelib.routes.h5 import HTML_HEADERS, Ctx, _document, _query, h5_page
from chalicelib.services import matrix as matrix_service

bp = Blueprint(__name__)
e = html.escape
MATRIX_STYLE = """<style>
.cats{display:flex;flex-wrap:wrap;gap:8px 16px;margin:12px 0;padding:0;list-style:none}
.cats a{display:inline-block;min-height:44px;line-height:44px;padding:0 12px;border:2px solid #0b4f9c;border-radius:8px}
.cats a[aria-current]{background:#0b4f9c;color:#fff}
.entries{list-style:none;padding:0;margin:0} .entries li{border-bottom:2px solid #ddd;padding:10px 0}
.entries b{font-size:1.1rem} .tag{font-size:.85rem;background:#fff3c4;color:#5c4400;padding:0 6px;border-radius:4px;margin-left:6px}
.search{display:flex;gap:8px;align-items:flex-end} .search div{flex:1} .search button{margin-top:0}
</style>"""


@bp.route("/h5/{account_id}/matrix", methods=["GET"])
@h5_page
def matrix_page(ctx: Ctx) -> Response:
    q = _query()
    category = q.get("category") if q.get("category") in CATEGORIES else None
    query = (q.get("q") or "").strip()[:30]
    data = matrix_service.browse(ctx.account.view.district_id, category, query)
    body = _matrix_html(ctx, data, category, query)
    return Response(body=_document(f"微信联盟 - {ctx.account.view.name}", body, ctx.large).replace(
        "</head>", MATRIX_STYLE + "</head>", 1), status_code=200,
        headers={**HTML_HEADERS, "Cache-Control": "public, max-age=60"})


def _link(ctx: Ctx, large: bool | None = None, **query: str) -> str:
    large = ctx.large if large is None else large
    params = {**({"large": "1"} if large else {}), **{k: v for k, v in query.items() if v}}
    tail = "&".join(f"{k}={quote(v)}" for k, v in params.items())
    return f"{ctx.prefix}/h5/{ctx.account_id}/matrix" + (f"?{tail}" if tail else "")


def _matrix_html(ctx: Ctx, data: dict, category: str | None, query: str) -> str:
    cats = [f'<li><a href="{e(_link(ctx, q=query))}"{" aria-current=page" if not category else ""}>全部</a></li>']
    cats += [f'<li><a href="{e(_link(ctx, category=c, q=query))}"{" aria-current=page" if c == category else ""}>'
             f'{e(c)}</a></li>' for c in data["categories"]]
    sections = []
    for cat, entries in data["groups"]:
        items = []
        for x in entries:
            how = (f"微信号：{e(x.wechat_id)}" if x.platform == "wechat"
                   else f'<a href="{e(x.weibo_url)}">打开微博</a>')
            qr = f' · <a href="{e(x.qr_image)}">二维码</a>' if x.qr_image else ""
            items.append(f'<li><b>{e(x.name)}</b><span class="tag">{e(x.platform_name)}</span>'
                         f'<br>{e(x.description)}<br><small>{e(x.owner)} · {how}{qr}</small></li>')
        sections.append(f'<section><h2>{e(cat)}（{len(entries)}）</h2><ul class="entries">{"".join(items)}</ul></section>')
    large = '<input type="hidden" name="large" value="1">' if ctx.large else ""
    keep_cat = f'<input type="hidden" name="category" value="{e(category)}">' if category else ""
    found = (f'<p role="status">找到 {data["found"]} 个账号。</p>' if query or category
             else f'<p>全区共 {data["total"]} 个政务微信和微博账号。</p>')
    empty = "" if data["groups"] else "<p>没有找到，可以换个关键词，例如“法官”“学校”“微博”。</p>"
    toggle = _link(ctx, not ctx.large, category=category or "", q=query)
    size = f'<p class="size"><a href="{e(toggle)}">{"标准字号" if ctx.large else "大字"}</a></p>'
    return f"""{size}<h1>微信联盟 · 微博联盟</h1>
<form class="search" method="get" action="{e(ctx.prefix)}/h5/{e(ctx.account_id)}/matrix" role="search">{large}{keep_cat}
<div><label for="q">查找账号</label><input id="q" name="q" type="text" value="{e(query)}" maxlength="30"
placeholder="例如：法官、学校、微博"></div><button type="submit">查找</button></form>
<nav aria-label="按类别浏览"><ul class="cats">{''.join(cats)}</ul></nav>
{found}{empty}{''.join(sections)}"""
