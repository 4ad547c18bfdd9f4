"""Two people sign in through a local OIDC provider in headless Chromium; each sees only
their tenant. The provider (``oidc-provider-mock``) runs on loopback in this process, the
dashboard under `streamlit run` with an ``[auth]`` secrets file of the test's own.
Screenshots go to tests/artifacts/ (git-ignored). Skipped without chromium or the mock.
"""

import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from supercore_core import admin_session
from supercore_core.people import add_person, grant
from tests.factories import unique_slug
from tests.test_app_pages import Seeded, seed
from tests.test_e2e_browser import (
    ROOT,
    browser,
    free_port,
    pytestmark,
    serve,
    settled,
    shoot,
    wait_for_text,
)

__all__ = ["browser", "pytestmark"]
oidc_mock = pytest.importorskip("oidc_provider_mock", reason="oidc-provider-mock is not installed")
from selenium.webdriver.common.by import By  # noqa: E402


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    with oidc_mock.run_server_in_thread() as server:
        yield f"http://localhost:{server.server_port}"


@pytest.fixture(scope="module")
def signed_people(
    owner_engine: Engine, admin_sessions: sessionmaker[Session]
) -> list[tuple[str, Seeded, Seeded]]:
    """(subject, own tenant, the other tenant) for two people, each owner of one tenant."""
    first, second = seed(owner_engine, "north"), seed(owner_engine, "south")
    found = []
    with admin_session(admin_sessions, reason="test: browser sign-in") as session:
        for own, other in ((first, second), (second, first)):
            subject = unique_slug("person")
            person = add_person(session, oidc_subject=subject, display_name=subject)
            grant(session, person_id=person.id, solution_id=own.solution_id, role="owner")
            found.append((subject, own, other))
    return found


@pytest.fixture(scope="module")
def dashboard(
    admin_login_url: str, provider: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    port = free_port()
    folder = tmp_path_factory.mktemp("signin")
    secrets_file = folder / "secrets.toml"
    secrets_file.write_text(
        "[auth]\n"
        f'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
        f'cookie_secret = "{secrets.token_urlsafe(32)}"\n'
        'client_id = "supercore-workbench"\n'
        'client_secret = "test-secret"\n'
        f'server_metadata_url = "{provider}/.well-known/openid-configuration"\n'
    )
    env = os.environ | {"SUPERCORE_DATABASE_URL": admin_login_url,
                        "SUPERCORE_DATA_DIR": str(folder), "HF_HUB_OFFLINE": "1"}  # fmt: skip
    env.pop("DATABASE_URL", None)
    with serve(port, env, folder / "streamlit.log", "--secrets.files", str(secrets_file)) as url:
        yield url


def sign_in(driver: Any, dashboard: str, subject: str) -> None:
    driver.delete_all_cookies()
    driver.get(f"{dashboard}/")
    wait_for_text(driver, "Sign in to see the tenants you belong to", timeout_s=60)
    driver.find_element(By.XPATH, '//button[.//p[text()="Sign in"]]').click()
    field = _wait_element(driver, 'input[name="sub"]')
    field.send_keys(subject)
    driver.find_element(By.XPATH, '//button[text()="Authorize"]').click()
    wait_for_text(driver, f"{subject} (signed in)", timeout_s=60)


def _wait_element(driver: Any, css: str) -> Any:
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, 60).until(
        expected_conditions.presence_of_element_located((By.CSS_SELECTOR, css))
    )


def test_two_people_sign_in_and_each_sees_only_their_tenant(
    dashboard: str, browser: Any, signed_people: list[tuple[str, Seeded, Seeded]]
) -> None:
    for number, (subject, own, other) in enumerate(signed_people, start=1):
        sign_in(browser, dashboard, subject)
        browser.get(f"{dashboard}/documents")
        settled(browser, "Documents")
        wait_for_text(browser, own.filename)
        body = browser.find_element(By.TAG_NAME, "body").text
        assert own.name in body
        assert other.name not in body and other.filename not in body
        assert "Overview" not in body  # the all-tenant pages are for platform admins
        assert shoot(browser, f"signin-person-{number}").stat().st_size > 10_000
    assert Path(ROOT / "tests" / "artifacts" / "signin-person-2.png").exists()
