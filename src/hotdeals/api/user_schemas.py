"""Request and response bodies of ``/api/users``: a customer's email and name."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from hotdeals.api.schemas import Request
from hotdeals.vocabulary import MAX_EMAIL, Name


class UserIn(Request):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"email": "ann@example.com", "name": "Ann Shopper"}]}
    )

    email: EmailStr = Field(max_length=MAX_EMAIL, examples=["ann@example.com"])
    name: Name = Field(examples=["Ann Shopper"])


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    customer_id: int
    email: str
    name: str
