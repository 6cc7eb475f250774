"""Community WeChat alliance platform (社区微信联盟服务平台): the code that runs in Lambda."""
