"""The web process (FastAPI): ``create_app`` builds it; one router per resource, the bearer
token a dependency of the ``/v1`` router, health and metrics apart."""

from workers.web.app import create_app

__all__ = ["create_app"]
