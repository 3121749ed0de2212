"""Benchmarks: each prints the product's figures beside a bare stack's, run in the same process."""


def sa_url(url: str) -> str:
    """A PostgreSQL URL as SQLAlchemy's asyncpg driver takes it."""
    return url.replace("postgresql://", "postgresql+asyncpg://", 1)
