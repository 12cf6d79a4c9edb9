"""Every route of the JSON API on one router, which the app factory mounts."""

from __future__ import annotations

from fastapi import APIRouter

from hotdeals.api import docs, health
from hotdeals.api.routers import analytics, learning, projects, purchases, users

router = APIRouter()
for part in (health, docs, learning, purchases, users, projects, analytics):
    router.include_router(part.router)
