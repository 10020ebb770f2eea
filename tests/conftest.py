"""Shared pytest options and fixtures."""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite golden files from the current output instead of comparing",
    )


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Keep the fitted-index cache of the tests out of the user's ~/.cache (subprocesses inherit it)."""
    import os

    if "NETOPS_CACHE" not in os.environ:
        os.environ["NETOPS_CACHE"] = str(tmp_path_factory.mktemp("netops-cache"))
