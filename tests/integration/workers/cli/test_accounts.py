"""``accounts``: a refused account names the field, in one line."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine

from workers.cli import main

pytestmark = pytest.mark.integration


def test_adding_an_account_with_a_bad_refresh_token_names_the_field(clean_db: Engine) -> None:
    result = CliRunner().invoke(
        main,
        ["accounts", "add", "shop", "--seller-id", "A1", "--region", "NA", "--marketplace", "X"],
        env={"LWA_REFRESH_TOKEN": "not-a-token"},
    )
    assert result.exit_code == 2
    assert "refresh_token: a Login with Amazon refresh token starts with 'Atzr|'" in result.output
