"""The web floor's shared pieces: errors → HTTP in one place, JSON bodies, resident sessions, page templates."""
