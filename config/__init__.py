"""Configuration: typed settings read once at start, and the locale texts."""
