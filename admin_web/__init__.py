"""The admin web: what chat is bad at (bulk work, lists, settings)."""
