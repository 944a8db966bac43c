"""``tagpilot run``'s address flags: a bad one is one line and exit 2, before anything starts."""

from __future__ import annotations

import pytest

from tagpilot.cli.run_cmd import address as _address
from tagpilot.core.errors import InvalidInputError


@pytest.mark.parametrize(
    "value", ["127.0.0.1", ":9797", "host:http", "127.0.0.1:65536", "h:" + "9" * 5000]
)
def test_a_bad_address_is_refused_with_the_flag_named(value: str) -> None:
    with pytest.raises(InvalidInputError, match=r"^--api-address .*expected HOST:PORT"):
        _address(value, "--api-address")


def test_a_good_address_splits_into_host_and_port() -> None:
    assert _address("[::1]:65535") == ("::1", 65535)
    assert _address("0.0.0.0:0") == ("0.0.0.0", 0)
