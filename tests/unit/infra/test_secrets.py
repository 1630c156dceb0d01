"""The key ring (``infra.secrets``): what it seals only it opens, a clear value from before is
read as it is, a ring with a new key first still opens the old key's values and re-encrypts
them, a wrong or malformed key is one line naming SECRETS_KEY, and the data folder's key is
made once, mode 0600, and refused with a database over the network."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from pydantic import SecretStr

from infra.secrets import (
    Keyring,
    SecretsKeyError,
    add_key_to_file,
    is_sealed,
    key_file,
    keyring_for,
    networked,
    new_key,
    open_stored,
    process_keyring,
    use_settings,
)
from infra.settings import Settings

TOKEN = "Atzr|IwEBIA-seller-refresh-token"


def ring(*keys: str) -> Keyring:
    return Keyring(keys, "SECRETS_KEY")


def test_a_sealed_token_is_not_the_token_and_opens_to_it() -> None:
    keys = ring(new_key())
    sealed = keys.seal(TOKEN)
    assert is_sealed(sealed) and TOKEN not in sealed
    assert keys.open(sealed) == TOKEN
    assert keys.seal(TOKEN) != sealed  # a fresh IV each time


def test_a_clear_value_from_before_is_read_as_it_is_and_resealed() -> None:
    keys = ring(new_key())
    assert keys.open(TOKEN) == TOKEN
    assert not keys.on_current_key(TOKEN)
    assert keys.open(keys.reseal(TOKEN)) == TOKEN


def test_a_new_key_first_still_opens_the_old_ones_and_reseals_them_on_itself() -> None:
    old, new = new_key(), new_key()
    sealed = ring(old).seal(TOKEN)
    both = ring(new, old)
    assert both.open(sealed) == TOKEN and not both.on_current_key(sealed)
    moved = both.reseal(sealed)
    assert both.on_current_key(moved)
    assert ring(new).open(moved) == TOKEN  # the old key is no longer needed


def test_a_wrong_key_is_one_line_naming_secrets_key() -> None:
    sealed = ring(new_key()).seal(TOKEN)
    with pytest.raises(SecretsKeyError) as raised:
        ring(new_key()).open(sealed, what="the refresh token of account 'shop'")
    message = str(raised.value)
    assert message.startswith("SECRETS_KEY: the refresh token of account 'shop'")
    assert "\n" not in message and TOKEN not in message


@pytest.mark.parametrize("given", ["not-a-key", "abc,def", " , "])
def test_a_malformed_secrets_key_names_it(given: str, tmp_path: Path) -> None:
    settings = Settings(secrets_key=SecretStr(given), data_dir=tmp_path)
    with pytest.raises(SecretsKeyError, match=r"^SECRETS_KEY: "):
        keyring_for(settings)


def test_several_keys_in_secrets_key_first_is_current(tmp_path: Path) -> None:
    first, second = new_key(), new_key()
    keys = keyring_for(Settings(secrets_key=SecretStr(f"{first}, {second}"), data_dir=tmp_path))
    assert keys.keys == (first, second)
    assert ring(first).open(keys.seal(TOKEN)) == TOKEN
    assert not key_file(tmp_path).exists()  # the environment's keys: no file made


def test_without_secrets_key_the_data_folder_keeps_one_key_mode_0600(tmp_path: Path) -> None:
    settings = Settings(secrets_key=SecretStr(""), data_dir=tmp_path / "data", database_url="")
    first = keyring_for(settings)
    path = key_file(tmp_path / "data")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert keyring_for(settings).keys == first.keys  # made once, read after
    assert first.source == f"the key file {path}"


def test_the_embedded_servers_socket_url_uses_the_data_folders_key(tmp_path: Path) -> None:
    url = "postgresql+psycopg://postgres:@/amazon_channel?host=/data/postgres"
    settings = Settings(secrets_key=SecretStr(""), data_dir=tmp_path, database_url=url)
    assert not networked(url)
    assert keyring_for(settings).keys


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://app@db.internal:5432/channel",
        "postgresql://app@127.0.0.1/channel",
        "postgresql://app@/channel?host=db.internal",
    ],
)
def test_a_database_over_the_network_refuses_the_data_folders_key(url: str, tmp_path: Path) -> None:
    settings = Settings(secrets_key=SecretStr(""), data_dir=tmp_path, database_url=url)
    with pytest.raises(SecretsKeyError, match=r"^SECRETS_KEY is not set, and DATABASE_URL"):
        keyring_for(settings)
    assert not key_file(tmp_path).exists()


def test_a_key_file_open_to_others_is_refused(tmp_path: Path) -> None:
    path = key_file(tmp_path)
    path.write_text(new_key() + "\n")
    path.chmod(0o644)
    with pytest.raises(SecretsKeyError, match="chmod 600"):
        keyring_for(Settings(secrets_key=SecretStr(""), data_dir=tmp_path, database_url=""))


def test_a_new_key_in_the_file_goes_first_and_the_old_still_opens(tmp_path: Path) -> None:
    settings = Settings(secrets_key=SecretStr(""), data_dir=tmp_path, database_url="")
    old = keyring_for(settings)
    sealed = old.seal(TOKEN)
    rotated = add_key_to_file(key_file(tmp_path))
    assert rotated.keys[1:] == old.keys and rotated.keys[0] not in old.keys
    assert rotated.open(sealed) == TOKEN
    assert stat.S_IMODE(key_file(tmp_path).stat().st_mode) == 0o600
    assert not key_file(tmp_path).with_name("secrets.key.new").exists()


def test_a_running_process_reads_the_key_file_again_for_a_token_of_a_new_key(
    tmp_path: Path,
) -> None:
    use_settings(Settings(secrets_key=SecretStr(""), data_dir=tmp_path, database_url=""))
    try:
        before = process_keyring()
        rotated = add_key_to_file(key_file(tmp_path))  # `secrets rotate --new-key`, elsewhere
        sealed = rotated.seal(TOKEN)
        with pytest.raises(SecretsKeyError):
            before.open(sealed)
        assert open_stored(sealed, what="a token") == TOKEN
        assert process_keyring().keys == rotated.keys
    finally:
        use_settings(None)
