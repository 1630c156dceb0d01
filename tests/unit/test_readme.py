"""The README says only what is true: every setting documented, every file it names exists,
every ``amazon-channel`` command it shows is a command of the CLI with the options it uses.

(The walkthrough itself runs against a live system in
``tests/integration/test_readme_walkthrough.py``.)"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
import pytest

from infra.settings import Settings
from workers.cli import main

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
# Paths written in the README as code: `infra/db/accounts.py`, `workers/tasks/`, `Procfile`...
PATH_PATTERN = re.compile(r"`((?:domain|infra|workers|tests|bench|\.ci)/[\w./-]*)`")


def test_every_setting_is_documented() -> None:
    missing = [name.upper() for name in Settings.model_fields if f"`{name.upper()}`" not in README]
    assert not missing, f"settings the README's configuration does not name: {missing}"


def test_every_file_the_readme_names_exists() -> None:
    named = {m.group(1).rstrip("/.") for m in PATH_PATTERN.finditer(README)}
    assert named, "the README names no file: the pattern is wrong"
    missing = sorted(p for p in named if not (ROOT / p).exists())
    assert not missing, f"the README names files that do not exist: {missing}"


def _shell_blocks(text: str) -> list[str]:
    """The fenced blocks marked ``sh`` or unmarked (a ```` ```csv ```` block is data)."""
    blocks: list[str] = []
    lines: list[str] | None = None
    shell = False
    for line in text.splitlines():
        if line.startswith("```"):
            if lines is None:
                lines, shell = [], line[3:].strip() in ("", "sh")
            else:
                if shell:
                    blocks.append("\n".join(lines))
                lines = None
        elif lines is not None:
            lines.append(line)
    return blocks


def _command_lines() -> list[list[str]]:
    """Each ``amazon-channel ...`` command written in the README's code, as words (a line's
    continuation joined, options' values kept, shell syntax after the command dropped)."""
    code = "\n".join(_shell_blocks(README))
    code += "\n" + "\n".join(re.findall(r"`(amazon-channel [^`]+)`", README))
    code = code.replace("\\\n", " ")
    lines: list[list[str]] = []
    for line in code.splitlines():
        line = re.split(r"(?:^|\s)#", line)[0]  # a comment
        at = line.find("amazon-channel ")
        if at < 0:
            continue
        text = re.split(r"\s(?:\||&&|;|#|>|\))", line[at:])[0]
        try:
            words = shlex.split(text)
        except ValueError:
            continue
        lines.append(words[1:])
    return lines


def _resolve(words: list[str]) -> tuple[click.Command, list[str]]:
    command: click.Command = main
    rest = list(words)
    while isinstance(command, click.Group) and rest and not rest[0].lstrip("[").startswith("-"):
        sub = command.commands.get(rest[0])
        if sub is None:
            if rest[0] in ("…", "...") or rest[0].isupper():
                break  # a placeholder ("accounts …"): the group itself is the command
            raise AssertionError(f"`amazon-channel {' '.join(words)}`: no command {rest[0]!r}")
        command, rest = sub, rest[1:]
    return command, rest


def test_the_readme_shows_commands() -> None:
    assert len(_command_lines()) > 10


@pytest.mark.parametrize("words", _command_lines(), ids=lambda w: " ".join(w)[:60])
def test_every_command_the_readme_shows_exists_with_its_options(words: list[str]) -> None:
    command, rest = _resolve(words)
    known = {opt for param in command.params for opt in getattr(param, "opts", [])}
    known |= {opt for param in command.params for opt in getattr(param, "secondary_opts", [])}
    known.add("--help")
    for word in rest:
        if word.startswith("--") or re.fullmatch(r"-[a-zA-Z]", word):
            option = word.split("=", 1)[0].strip("[]")
            assert option in known, (
                f"`amazon-channel {' '.join(words)}`: {option} is not an option of "
                f"{command.name} ({sorted(known)})"
            )
