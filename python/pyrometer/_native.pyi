"""Typed surface of the C++ extension module ``pyrometer._native``."""

ABI_VERSION: int

def normalize_sql(sql: str, db_system: str = "") -> tuple[str, str, str, str]:
    """(normalized text, fingerprint as 16 hex digits, operation, main table); py_sql.cc."""
