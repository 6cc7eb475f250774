"""Domain logic: plain Python use cases and rules. Nothing here knows HTTP, Lambda events or XML."""
