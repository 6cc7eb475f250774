"""Data access: PynamoDB models, one module per aggregate, and the repositories over them.

`ALL_MODELS` is the one list of tables; the laptop stack, the tests and the deployment template
(`tools/gen_resources.py`) are all built from it.
"""
