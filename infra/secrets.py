"""Secrets at rest: what the store keeps of a seller's Login with Amazon refresh token is a Fernet
token (``cryptography``: AES-128-CBC with an HMAC-SHA256, so a changed byte is refused, not
decrypted into garbage), opened only where the token is used (the Amazon client's build).

The key ring comes from ``SECRETS_KEY`` (comma-separated Fernet keys; the first encrypts, every
one decrypts: ``MultiFernet``, so a new key can go first while rows written under the old one are
re-encrypted by ``amazon-channel secrets rotate``). Without it, the key is kept in the data
folder (``secrets.key``, mode 0600, one key a line, first current), generated on first use, like
the embedded servers it goes with.

The data folder's key is refused when ``DATABASE_URL`` names a server over the network: such a
database is shared by processes on other hosts or containers, each of which would generate its
own key in its own data folder and write rows the others cannot read, and a key lost with a
container makes every token unreadable. Refusing costs one setting; a warning would be read only
after the damage.

A stored value that is not a Fernet token (no ``gAAAAA`` prefix: every Fernet token starts with
its version byte 0x80 and a timestamp whose high bytes are zero) is a row written before secrets
were encrypted: it is read as it is, and ``secrets rotate`` encrypts it. A refresh token starts
with ``Atzr|``, so the two cannot be confused.
"""

from __future__ import annotations

import os
import stat
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from infra.settings import Settings, load_settings

SEALED_PREFIX = "gAAAAA"
KEY_FILE_NAME = "secrets.key"
KEY_FILE_MODE = 0o600


class SecretsKeyError(RuntimeError):
    """The key ring cannot be had, or does not open a stored secret: one line naming
    SECRETS_KEY (the CLI prints it as its ``error:`` line)."""


def new_key() -> str:
    """A new Fernet key (32 random bytes, URL-safe base64), for ``SECRETS_KEY``."""
    return Fernet.generate_key().decode()


def is_sealed(stored: str) -> bool:
    return stored.startswith(SEALED_PREFIX)


@dataclass(frozen=True, slots=True)
class Keyring:
    """The keys (first current) and where they came from (for messages; never the keys)."""

    keys: tuple[str, ...] = field(repr=False)
    source: str

    def __post_init__(self) -> None:
        if not self.keys:
            raise SecretsKeyError(f"SECRETS_KEY: {self.source} holds no key")
        for n, key in enumerate(self.keys, start=1):
            try:
                Fernet(key)
            except (ValueError, TypeError):
                raise SecretsKeyError(
                    f"SECRETS_KEY: key {n} of {self.source} is not a Fernet key (32 bytes in "
                    "URL-safe base64; `amazon-channel secrets generate-key` makes one)"
                ) from None

    @property
    def _multi(self) -> MultiFernet:
        return MultiFernet([Fernet(k) for k in self.keys])

    def seal(self, clear: str) -> str:
        """``clear`` encrypted with the current key."""
        return Fernet(self.keys[0]).encrypt(clear.encode()).decode()

    def open(self, stored: str, *, what: str = "a stored secret") -> str:
        """The clear text of a stored value (a clear one from before is returned as it is)."""
        if not is_sealed(stored):
            return stored
        try:
            return self._multi.decrypt(stored.encode()).decode()
        except InvalidToken:
            raise self._wrong_key(what) from None

    def on_current_key(self, stored: str) -> bool:
        """Sealed with the current key (``rotate`` leaves it alone)."""
        if not is_sealed(stored):
            return False
        try:
            Fernet(self.keys[0]).decrypt(stored.encode())
        except InvalidToken:
            return False
        return True

    def reseal(self, stored: str, *, what: str = "a stored secret") -> str:
        """The stored value under the current key: a clear one sealed, an older one
        re-encrypted (``MultiFernet.rotate``)."""
        if not is_sealed(stored):
            return self.seal(stored)
        try:
            return self._multi.rotate(stored.encode()).decode()
        except InvalidToken:
            raise self._wrong_key(what) from None

    def _wrong_key(self, what: str) -> SecretsKeyError:
        return SecretsKeyError(
            f"SECRETS_KEY: {what} was encrypted with a key that is not in {self.source} "
            "(set SECRETS_KEY to the key it was written with, first or after the current one)"
        )


def keyring_for(settings: Settings) -> Keyring:
    """``SECRETS_KEY``'s keys, else the data folder's (generated when there is none yet), which
    a network ``DATABASE_URL`` refuses (see the module's docstring)."""
    given = settings.secrets_key.get_secret_value()
    if given.strip():
        keys = tuple(k.strip() for k in given.split(",") if k.strip())
        return Keyring(keys, "SECRETS_KEY")
    if networked(settings.database_url):
        raise SecretsKeyError(
            "SECRETS_KEY is not set, and DATABASE_URL names a database server over the network: "
            "every process that shares it needs the same key, so set SECRETS_KEY (make one with "
            "`amazon-channel secrets generate-key`) instead of a key in each data folder"
        )
    return data_folder_keyring(key_file(settings.data_dir))


def networked(database_url: str) -> bool:
    """The URL names a host (not a unix socket on this machine, as the embedded server's)."""
    if not database_url:
        return False
    parts = urlsplit(database_url)
    hosts = parse_qs(parts.query).get("host", [])
    if parts.hostname:
        return True
    return any(host and not host.startswith("/") for host in hosts)


def key_file(data_dir: Path) -> Path:
    return data_dir / KEY_FILE_NAME


def data_folder_keyring(path: Path) -> Keyring:
    """The keys of the data folder's file, written first with a new key when there is none.
    Created with O_EXCL: two processes starting at once end up with the same key."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, KEY_FILE_MODE)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as out:
                out.write(new_key() + "\n")
    return Keyring(read_key_file(path), f"the key file {path}")


def read_key_file(path: Path) -> tuple[str, ...]:
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
        text = path.read_text()
    except OSError as exc:
        raise SecretsKeyError(f"SECRETS_KEY is not set and {path} cannot be read: {exc}") from exc
    if mode & 0o077:
        raise SecretsKeyError(
            f"SECRETS_KEY is not set and the key file {path} is open to others (mode "
            f"{mode:04o}): `chmod 600 {path}`"
        )
    return tuple(line.strip() for line in text.splitlines() if line.strip())


def add_key_to_file(path: Path) -> Keyring:
    """A new key first in the data folder's file (the old ones stay after it: what they sealed
    is still read until ``rotate`` re-encrypted it). Written to a new file and renamed over the
    old one, so an interruption leaves one whole file."""
    keys = read_key_file(path) if path.exists() else ()
    fresh = path.with_name(path.name + ".new")
    fresh.unlink(missing_ok=True)
    fd = os.open(fresh, os.O_WRONLY | os.O_CREAT | os.O_EXCL, KEY_FILE_MODE)
    with os.fdopen(fd, "w") as out:
        out.write("\n".join((new_key(), *keys)) + "\n")
        out.flush()
        os.fsync(out.fileno())
    fresh.replace(path)
    return Keyring(read_key_file(path), f"the key file {path}")


# --- this process's key ring --------------------------------------------------------------------

_lock = threading.Lock()
_settings: Settings | None = None
_keyring: Keyring | None = None


def use_settings(settings: Settings | None) -> None:
    """This process's settings for its key ring (``workers.bootstrap.use`` passes its own;
    None: the environment's again); the ring is read on first use."""
    global _settings, _keyring
    with _lock:
        _settings, _keyring = settings, None


def process_keyring(*, reread: bool = False) -> Keyring:
    """The key ring of this process: from the settings given to ``use_settings``, else from
    the environment, read once (``reread``: read again, as after a key was added to the data
    folder's file by ``secrets rotate --new-key`` while this process ran)."""
    global _keyring
    with _lock:
        if _keyring is None or reread:
            _keyring = keyring_for(_settings if _settings is not None else load_settings())
        return _keyring


def open_stored(stored: str, *, what: str) -> str:
    """``stored`` opened with this process's ring; a value no key of it opens is tried once
    more with the ring read again (the key file may have gained a key since)."""
    try:
        return process_keyring().open(stored, what=what)
    except SecretsKeyError:
        return process_keyring(reread=True).open(stored, what=what)
