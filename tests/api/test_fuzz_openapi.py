"""Schemathesis against our own OpenAPI: no input makes a 5xx or a response off its schema.

Every operation is fuzzed with valid and invalid data (a bounded number of examples, so CI stays
fast), with the admin token, on SQLite and PostgreSQL, over a database that holds a customer and
a project so that small ids hit real rows. Invalid data must be refused with a 4xx.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy.orm import Session, sessionmaker

from hotdeals.app import create_app
from tests.factories import ADMIN, make_project, make_user

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
EXAMPLES = 25


@pytest.fixture
def fuzzed_app(configured: str, sessions: sessionmaker[Session]) -> schemathesis.BaseSchema:
    with sessions.begin() as session:
        make_user(session, "fuzz@example.com", "Fuzz")
        make_project(session, deals=3, project_name="Fuzz")
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app())
    # The admin token is sent with every call below, so schemathesis must not count a request
    # "without Authorization" among its invalid ones: it would arrive with the header.
    schema.config.generation.update(
        modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
        max_examples=EXAMPLES,
        with_security_parameters=False,
    )
    return schema


schema = schemathesis.pytest.from_fixture("fuzzed_app")


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_input_breaks_the_contract(case: schemathesis.Case) -> None:
    response = case.call(headers=ADMIN)
    case.validate_response(response, checks=CHECKS)
