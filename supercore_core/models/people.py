"""People, their tenant roles and platform admins (revision 0016)."""

import uuid
from datetime import datetime

from sqlalchemy import Boolean, ForeignKeyConstraint, Text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from supercore_core.models.base import Base, _created, _tenant_fks, _updated, _uuid_pk


class Person(Base):
    """Someone who signs in: identity-provider subject, email, display name, active."""

    __tablename__ = "people"
    __table_args__ = (
        {
            "comment": "People who sign in (OIDC subject, email, display name); "
            "inactive people reach nothing."
        },
    )

    id: Mapped[uuid.UUID] = _uuid_pk()
    oidc_subject: Mapped[str] = mapped_column(Text, unique=True)
    email: Mapped[str | None] = mapped_column(Text)
    display_name: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, server_default="true")
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = _updated()


class TenantMembership(Base):
    """A person's role in one tenant: viewer, editor or owner."""

    __tablename__ = "tenant_memberships"
    __table_args__ = (
        _tenant_fks("tenant_memberships", oracle=False)[0],
        ForeignKeyConstraint(
            ["person_id"], ["people.id"], ondelete="CASCADE", name="fk_tenant_memberships_person"
        ),
        {
            "comment": "Who may do what in a tenant: viewer (read, chat), editor (also "
            "documents, oracles, evaluations), owner (also members and settings)."
        },
    )

    solution_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    person_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    role: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = _updated()


class PlatformAdmin(Base):
    """A person who reaches the all-tenant pages and superuser mode."""

    __tablename__ = "platform_admins"
    __table_args__ = (
        ForeignKeyConstraint(
            ["person_id"], ["people.id"], ondelete="CASCADE", name="fk_platform_admins_person"
        ),
        {
            "comment": "People who reach the all-tenant pages and superuser mode, and act as "
            "owner in every tenant."
        },
    )

    person_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    created_at: Mapped[datetime] = _created()
