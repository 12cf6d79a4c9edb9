"""Path parameters, bounded to what the columns can hold (INTEGER ids, BIGINT transactions).

An id past the column's range is a 422 that says so, never a driver overflow.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

MAX_ID = 2**31 - 1
MAX_TRANSACTION_ID = 2**63 - 1

ProjectId = Annotated[int, Path(ge=1, le=MAX_ID, description="project_id")]
BanditId = Annotated[int, Path(ge=1, le=MAX_ID, description="bandit_id")]
CustomerId = Annotated[int, Path(ge=1, le=MAX_ID, description="customer_id")]
TransactionId = Annotated[
    int, Path(ge=1, le=MAX_TRANSACTION_ID, description="transaction_id from a rank answer")
]
