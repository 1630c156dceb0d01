"""Amazon's JSON -> the domain's values, one module per kind of record (``orders`` today)."""

from infra.amazon.translate.orders import TranslationError, fetched, parse_time, to_domain

__all__ = ["TranslationError", "fetched", "parse_time", "to_domain"]
