"""``secrets rotate|generate-key``: the key that encrypts refresh tokens at rest
(``infra.secrets``).

Rotating with ``SECRETS_KEY``: put a new key first (``SECRETS_KEY=new,old``), restart the
processes, run ``secrets rotate``, then drop the old key. With the data folder's key file,
``secrets rotate --new-key`` puts a new key first in the file and re-encrypts. Either way a
second run changes nothing, and an interrupted one leaves every row readable: run it again."""

from __future__ import annotations

import click

from workers.cli.common import fail, store


@click.group()
def secrets() -> None:
    """The key of the secrets kept in the store (refresh tokens)."""


@secrets.command("generate-key")
def secrets_generate_key() -> None:
    """Print a new key (for SECRETS_KEY; put it first, keep the old one after it until
    `secrets rotate` has run)."""
    from infra.secrets import new_key

    click.echo(new_key())


@secrets.command("rotate")
@click.option(
    "--new-key",
    is_flag=True,
    help="First put a new key in the data folder's key file (not with SECRETS_KEY: put the "
    "new key first in it yourself).",
)
def secrets_rotate(new_key: bool) -> None:
    """Re-encrypt every stored refresh token with the current key (the first): clear ones from
    before are encrypted, older keys' re-encrypted. Idempotent, and safe to interrupt."""
    from infra.db.accounts_secrets import clear_refresh_tokens, reseal_refresh_tokens
    from infra.secrets import add_key_to_file, key_file, keyring_for
    from workers import bootstrap

    with store() as ready:
        if new_key and ready.secrets_key.get_secret_value():
            fail(
                "--new-key: SECRETS_KEY is set, so the keys are yours: put a new one first in "
                "it (`amazon-channel secrets generate-key`), restart, and run `secrets rotate`"
            )
        ring = keyring_for(ready)
        if new_key:
            ring = add_key_to_file(key_file(ready.data_dir))
            click.echo(f"a new key is first in {key_file(ready.data_dir)}", err=True)
        sessions = bootstrap.container().sessions
        done = reseal_refresh_tokens(sessions, ring)
        left = clear_refresh_tokens(sessions)
    click.echo(
        f"{done.checked} refresh tokens checked, {done.resealed} re-encrypted with the current "
        f"key ({ring.source}), {left} in clear text"
    )
    if len(ring.keys) > 1:
        click.echo(
            f"every row is on the first key now; the {len(ring.keys) - 1} others of "
            f"{ring.source} can go once every process runs with the new one",
            err=True,
        )
