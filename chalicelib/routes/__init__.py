"""HTTP entry points (Chalice blueprints). Each route parses, authorises, calls one use case, answers."""
