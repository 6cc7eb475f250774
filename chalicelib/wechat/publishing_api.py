"""WeChat's publishing APIs that wechatpy 1.8.18 lacks, in wechatpy's own style (`BaseWeChatAPI`
subclasses hung on the client as attributes): 草稿箱 (draft), 发布 (freepublish), 群发 with
`clientmsgid`, and the two image uploads (body images and permanent cover material).

    client.draft.add(articles)                    -> media_id
    client.freepublish.submit(media_id)           -> {"publish_id", "msg_data_id"}
    client.mass.send_article_to_all(media_id, clientmsgid) -> {"msg_id", "msg_data_id"}
    client.publish_media.upload_body_image(name, data)   -> url (mmbiz)
    client.publish_media.add_cover(name, data)            -> {"media_id", "url"}

https://developers.weixin.qq.com/doc/offiaccount/Draft_Box/Add_draft.html,
https://developers.weixin.qq.com/doc/offiaccount/Publish/Publish.html,
https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Batch_Sends_and_Originality_Checks.html
"""
from __future__ import annotations

import io

CLIENTMSGID_EXISTS = 45065  # a mass send with this clientmsgid exists; WeChat answers with its msg_id


class BaseWeChatAPI:
    """wechatpy's `BaseWeChatAPI`, as a descriptor: `client.draft` is a `WeChatDraft` bound to that client.

    (wechatpy binds its own API objects in `BaseWeChatClient.__new__` by type; these are bound on access,
    so this module needs no wechatpy import and `import app` stays free of it.)"""

    API_BASE_URL = ""

    def __init__(self, client=None):
        self._client = client

    def __get__(self, client, owner=None):
        return self if client is None else type(self)(client)

    def _get(self, url, **kwargs):
        if self.API_BASE_URL:
            kwargs["api_base_url"] = self.API_BASE_URL
        return self._client.get(url, **kwargs)

    def _post(self, url, **kwargs):
        if self.API_BASE_URL:
            kwargs["api_base_url"] = self.API_BASE_URL
        return self._client.post(url, **kwargs)


class WeChatDraft(BaseWeChatAPI):
    """草稿箱."""

    def add(self, articles):
        """新建草稿: `articles` as WeChat documents them (title, content, thumb_media_id, …)."""
        return self._post("draft/add", data={"articles": articles}, result_processor=lambda r: r["media_id"])

    def get(self, media_id):
        return self._post("draft/get", data={"media_id": media_id})

    def delete(self, media_id):
        return self._post("draft/delete", data={"media_id": media_id})


class WeChatFreePublish(BaseWeChatAPI):
    """发布 (free publish): the articles appear on the account's page; followers are not notified."""

    def submit(self, media_id):
        return self._post("freepublish/submit", data={"media_id": media_id})

    def get(self, publish_id):
        return self._post("freepublish/get", data={"publish_id": publish_id})


class WeChatMassSend(BaseWeChatAPI):
    """群发 of a draft to every follower, made idempotent with `clientmsgid`."""

    def send_article_to_all(self, media_id, clientmsgid, send_ignore_reprint=0):
        return self._post("message/mass/sendall", data={
            "filter": {"is_to_all": True}, "mpnews": {"media_id": media_id}, "msgtype": "mpnews",
            "send_ignore_reprint": send_ignore_reprint, "clientmsgid": clientmsgid})

    def get(self, msg_id):
        return self._post("message/mass/get", data={"msg_id": msg_id})


class WeChatPublishMedia(BaseWeChatAPI):
    """Images of an article: body images (media/uploadimg, a URL usable only inside articles) and the cover
    (permanent material, a media_id for thumb_media_id)."""

    def upload_body_image(self, filename, data):
        return self._post("media/uploadimg", files={"media": (filename, io.BytesIO(data))},
                          result_processor=lambda r: r["url"])

    def add_cover(self, filename, data):
        return self._post("material/add_material", params={"type": "image"},
                          files={"media": (filename, io.BytesIO(data))})


def attach(client_class):
    """Hang the publishing APIs on a wechatpy client class (as wechatpy declares its own)."""
    client_class.draft = WeChatDraft()
    client_class.freepublish = WeChatFreePublish()
    client_class.mass = WeChatMassSend()
    client_class.publish_media = WeChatPublishMedia()
    return client_class
