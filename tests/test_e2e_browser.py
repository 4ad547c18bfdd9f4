"""End to end in a real browser: `streamlit run` on a free loopback port, headless Chromium.

Loads every page, asks a question on the chat page and uploads a file on the documents
page, and saves a screenshot of each under tests/artifacts/ (git-ignored). Needs Debian's
``chromium`` and ``chromium-driver`` (``.ci/run`` installs them); skipped without them.
"""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from supercore_core import Settings
from supercore_core.demo import demo_tenants, is_loaded, load_demo
from tests.fakes import HashingEmbedder

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
PAGES = {  # url path -> the page's title
    "": "Overview",
    "tenants": "Tenants and oracles",
    "index_stats": "Index and usage",
    "documents": "Documents",
    "chat": "Chat",
    "evaluations": "Evaluations",
}

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        CHROMIUM is None or CHROMEDRIVER is None,
        reason="no headless browser: install Debian's chromium and chromium-driver "
        "(apt-get install -y chromium chromium-driver) to run the dashboard's browser test",
    ),
]
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
from selenium.common.exceptions import TimeoutException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support import expected_conditions  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_healthy(url: str, process: subprocess.Popen[bytes], timeout_s: float = 90) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"streamlit did not answer on {url} within {timeout_s} s")


@pytest.fixture(scope="module")
def dashboard(
    admin_login_url: str,
    admin_sessions: sessionmaker[Session],
    settings: Settings,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[str]:
    """The dashboard served by `streamlit run` on the test database, with the demo tenants."""
    tenants = demo_tenants()
    if not is_loaded(admin_sessions, tenants):
        load_demo(admin_sessions, embedder=HashingEmbedder(), settings=settings, tenants=tenants)
    port = free_port()
    env = os.environ | {
        "SUPERCORE_DATABASE_URL": admin_login_url,
        "SUPERCORE_DATA_DIR": str(tmp_path_factory.mktemp("dashboard")),
        "HF_HUB_OFFLINE": "1",
    }
    for name in ("ANTHROPIC_API_KEY", "OPENAI_API_KEY", "SUPERCORE_ANTHROPIC_API_KEY",
                 "SUPERCORE_OPENAI_API_KEY", "DATABASE_URL"):  # fmt: skip
        env.pop(name, None)
    with serve(port, env, tmp_path_factory.mktemp("streamlit") / "streamlit.log") as url:
        yield url


@contextmanager
def serve(port: int, env: dict[str, str], log: Path, *options: str) -> Iterator[str]:
    """`streamlit run` of the dashboard on loopback ``port``, healthy, stopped at the end."""
    command = [
        sys.executable, "-m", "streamlit", "run", str(ROOT / "app" / "streamlit_app.py"),
        "--server.address", "127.0.0.1", "--server.port", str(port),
        "--browser.gatherUsageStats", "false", "--server.headless", "true", *options,
    ]  # fmt: skip
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=out)  # noqa: S603
        try:
            url = f"http://127.0.0.1:{port}"
            wait_healthy(url, process)
            yield url
        finally:
            process.terminate()
            process.wait(timeout=20)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--window-size=1500,1300",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium')}",
    ):  # fmt: skip
        options.add_argument(flag)
    service = webdriver.ChromeService(executable_path=str(CHROMEDRIVER))
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


# The main block (not stMain: with a chat input the page scrolls in another container).
TITLE_JS = (
    "return [...document.querySelectorAll('[data-testid=\"stMainBlockContainer\"] h1')]"
    ".map(h => h.textContent)"
)
STATE_JS = "return document.querySelector('[data-testid=\"stApp\"]')?.dataset.testScriptState"


def settled(driver: Any, title: str | None, timeout_s: float = 90) -> None:
    """Wait until the page shows ``title`` (if given) and its script has stopped running."""

    def ready(_: Any) -> bool:
        titles = driver.execute_script(TITLE_JS) or []
        shown = title is None or any(t.strip() == title for t in titles)
        return shown and driver.execute_script(STATE_JS) == "notRunning"

    try:
        WebDriverWait(driver, timeout_s, poll_frequency=0.3).until(ready)
    except TimeoutException:
        shoot(driver, "failure")
        pytest.fail(
            f"page {title!r} did not settle in {timeout_s} s: headings "
            f"{driver.execute_script(TITLE_JS)}, script {driver.execute_script(STATE_JS)}"
        )
    time.sleep(1)  # charts and data grids draw after the script run ends


def problems(driver: Any) -> list[str]:
    """Exceptions and error boxes on the page."""
    found = driver.find_elements(By.CSS_SELECTOR, '[data-testid="stException"]')
    found += driver.find_elements(By.CSS_SELECTOR, '[data-testid="stAlertContentError"]')
    return [element.text for element in found]


def wait_for_text(driver: Any, text: str, timeout_s: float = 120) -> None:
    """Wait until ``text`` shows; on a timeout keep a screenshot and say what the page shows."""
    try:
        WebDriverWait(driver, timeout_s, poll_frequency=0.5).until(
            expected_conditions.text_to_be_present_in_element((By.TAG_NAME, "body"), text)
        )
    except TimeoutException:
        shoot(driver, "failure")
        body = driver.find_element(By.TAG_NAME, "body").text
        pytest.fail(f"{text!r} did not show within {timeout_s} s; the page shows:\n{body}")


def shoot(driver: Any, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    driver.save_screenshot(str(path))
    return path


def test_every_page_in_chromium(dashboard: str, browser: Any, tmp_path: Path) -> None:
    """Every page renders; then upload a report and ask about it (the demo data here was
    embedded with the test's hashing embedder, the uploaded file with the real MiniLM)."""
    for path, title in PAGES.items():
        browser.get(f"{dashboard}/{path}")
        settled(browser, title)
        assert problems(browser) == [], (path, problems(browser))
        assert shoot(browser, path or "overview").stat().st_size > 10_000
    browser.get(f"{dashboard}/")
    settled(browser, "Overview")
    assert "Data-centre operator" in browser.page_source  # the sidebar picker

    upload = tmp_path / "board-minutes.md"
    upload.write_text("# Board minutes\n\nThe board approved a dividend of 12 cents.\n")
    browser.get(f"{dashboard}/documents")
    settled(browser, "Documents")
    browser.find_element(By.CSS_SELECTOR, 'input[type="file"]').send_keys(str(upload))
    wait_for_text(browser, upload.name, timeout_s=30)
    browser.find_element(By.XPATH, '//button[.//p[text()="Ingest"]]').click()
    wait_for_text(browser, f"{upload.name}: 1 chunks")
    settled(browser, None)
    assert problems(browser) == []
    shoot(browser, "documents-uploaded")

    browser.get(f"{dashboard}/chat")
    settled(browser, "Chat")
    assert "Offline mode" in browser.find_element(By.TAG_NAME, "body").text
    box = browser.find_element(By.CSS_SELECTOR, '[data-testid="stChatInputTextArea"]')
    box.send_keys("What dividend did the board approve?", Keys.ENTER)
    wait_for_text(browser, "Sources (")
    settled(browser, None)
    assert problems(browser) == []
    shoot(browser, "chat-answer")
