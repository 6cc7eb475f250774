"""The WeChat side: protocol (signature, crypto, parsing, replies), the shared token and the API client."""
