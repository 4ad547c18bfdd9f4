"""Who is using the dashboard: an OIDC sign-in, a trusted proxy's headers, or local mode.

- OIDC: an ``[auth]`` section in ``.streamlit/secrets.toml`` (see ``secrets.toml.example``);
  people sign in with ``st.login()`` and ``st.user["sub"]`` names them.
- Trusted headers: ``server.trustedUserHeaders`` maps the proxy's user header to ``sub``
  (for example ``{"X-Forwarded-User": "sub", "X-Forwarded-Email": "email"}``).
- Neither: local mode, the local operator (a platform admin without a person), served on
  loopback only. Any other address is refused with one line.

The signed-in subject is looked up in ``people`` (``supercore user add``); the database then
decides what that person may see and do in every session the pages open.
"""

from dataclasses import dataclass
from typing import NoReturn
from uuid import UUID

import streamlit as st
from sqlalchemy.orm import Session, sessionmaker

from supercore_core.people import sign_in

LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
LOCAL_OPERATOR = "local operator"
REFUSAL = (
    "Refusing to serve on {address!r} without an identity provider: configure OIDC in "
    ".streamlit/secrets.toml (see .streamlit/secrets.toml.example) or trusted proxy headers "
    "(server.trustedUserHeaders), or serve on 127.0.0.1."
)


@dataclass(frozen=True)
class Who:
    """The person using this browser session (``person_id`` None: the local operator)."""

    person_id: UUID | None
    label: str
    is_admin: bool

    @property
    def cache_key(self) -> str:
        """What every ``st.cache_data`` function takes, so people never share results."""
        return "local-operator" if self.person_id is None else str(self.person_id)


def oidc_configured() -> bool:
    """Whether ``.streamlit/secrets.toml`` has an ``[auth]`` section."""
    try:
        return "auth" in st.secrets
    except FileNotFoundError:
        return False


def headers_configured() -> bool:
    """Whether a trusted reverse proxy names the user (``server.trustedUserHeaders``)."""
    return bool(st.get_option("server.trustedUserHeaders"))


def identify(sessions: sessionmaker[Session]) -> Who:
    """The person for this run; stops the page with one clear message when there is none."""
    oidc = oidc_configured()
    if not oidc and not headers_configured():
        return _local_operator()
    subject = _subject(oidc)
    signed = sign_in(sessions, subject)
    if signed is None:
        _stop(
            f"You are signed in as {_claimed_name()}, but have no access to this workbench: "
            f"ask a platform admin to run `supercore user add {subject} --email ...` and to "
            "grant you a role.",
            oidc,
        )
    return Who(signed.person.id, signed.person.label, signed.is_platform_admin)


def _local_operator() -> Who:
    address = str(st.get_option("server.address") or "")
    if address not in LOOPBACK:
        st.error(REFUSAL.format(address=address or "every interface"))
        st.stop()
    return Who(None, LOCAL_OPERATOR, True)


def _subject(oidc: bool) -> str:
    if oidc and not st.user.get("is_logged_in", False):
        st.title("SuperCore Workbench")
        st.info("Sign in to see the tenants you belong to.")
        st.button("Sign in", on_click=st.login, type="primary")
        st.stop()
    subject = str(st.user.get("sub") or "").strip()
    if not subject:
        _stop("The identity provider or proxy sent no subject (`sub`) for you.", oidc)
    return subject


def _claimed_name() -> str:
    return str(st.user.get("email") or st.user.get("name") or st.user.get("sub"))


def _stop(message: str, oidc: bool) -> NoReturn:
    st.error(message)
    if oidc:
        st.button("Sign out", on_click=st.logout)
    st.stop()


def sidebar(who: Who, oidc: bool) -> None:
    """Who is signed in (and a sign-out button), or the local-mode banner."""
    if who.person_id is None:
        st.warning(
            "Local mode: no identity provider is configured, so you are the local operator "
            "(platform admin) and the dashboard listens on loopback only.",
            icon=":material/lock_open:",
        )
        return
    role = "platform admin" if who.is_admin else "signed in"
    st.sidebar.caption(f"{who.label} ({role})")
    if oidc:
        st.sidebar.button("Sign out", on_click=st.logout)
