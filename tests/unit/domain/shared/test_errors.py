"""The domain's one error tree: every error the domain defines derives from ``DomainError`` and
is drawn under its real parent; the ones callers catch as ``ValueError`` still are."""

from __future__ import annotations

import importlib
import pkgutil

import domain
from domain.fulfilments import FulfilmentError
from domain.fulfilments import errors as fulfilment_errors
from domain.ingestion import PaginationExpired
from domain.orders import OrderProblem
from domain.shared import DomainError, MoneyError
from domain.shared import errors as shared_errors


def drawn_parents(docstring: str) -> dict[str, str]:
    """Each name in the tree drawn after a ``::`` line with the name it hangs from (the root,
    the drawing's first line, hangs from itself)."""
    drawing = docstring.split("::\n", 1)[1].strip("\n").splitlines()
    parents: dict[str, str] = {}
    trail: list[tuple[int, str]] = []  # (column, name) from the root down to the last line
    for line in drawing:
        if not line.strip():
            break
        column = line.index("── ") + 3 if "── " in line else len(line) - len(line.lstrip())
        name = line[column:].split()[0]
        while trail and trail[-1][0] >= column:
            trail.pop()
        parents[name] = trail[-1][1] if trail else name
        trail.append((column, name))
    return parents


def domain_errors() -> dict[str, type[DomainError]]:
    for module in pkgutil.walk_packages(domain.__path__, "domain."):
        importlib.import_module(module.name)
    found: dict[str, type[DomainError]] = {}
    todo: list[type[DomainError]] = [DomainError]
    while todo:
        cls = todo.pop()
        found[cls.__name__] = cls
        todo.extend(cls.__subclasses__())
    return found


def domain_parent(cls: type[DomainError]) -> str:
    if cls is DomainError:
        return cls.__name__
    (parent,) = [base for base in cls.__bases__ if issubclass(base, DomainError)]
    return parent.__name__


def test_the_drawn_tree_holds_every_domain_error_under_its_real_parent() -> None:
    errors = domain_errors()
    drawn = drawn_parents(shared_errors.__doc__ or "")
    assert set(drawn) == set(errors)
    assert {name: domain_parent(cls) for name, cls in errors.items()} == drawn


def test_the_fulfilment_branch_is_drawn_as_it_is() -> None:
    errors = domain_errors()
    drawn = drawn_parents(fulfilment_errors.__doc__ or "")
    branch = {name for name, cls in errors.items() if issubclass(cls, FulfilmentError)}
    assert set(drawn) == {"DomainError", *branch}
    assert all(drawn[name] == domain_parent(errors[name]) for name in branch)


def test_errors_callers_catch_as_value_errors_still_are() -> None:
    assert issubclass(MoneyError, ValueError) and issubclass(MoneyError, DomainError)
    assert issubclass(OrderProblem, ValueError) and issubclass(OrderProblem, DomainError)
    assert issubclass(PaginationExpired, DomainError)
