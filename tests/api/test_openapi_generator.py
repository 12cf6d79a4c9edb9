"""Our OpenAPI document is one a client generator can use, as a shop's developers would use it.

Named operation ids (the endpoint functions' names, so ``rank`` not ``rank_api_projects_...``),
an example on every request body, and error responses whose schema is complete: the test
generates a client with ``openapi-python-client`` from a real server's ``/openapi.json``
(offline: no post-generation hooks, ``--fail-on-warning`` so that no documented response is
dropped) and runs create-project, rank, click and a 409 through it.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from hotdeals.db.engine import make_engine
from hotdeals.db.migrate import upgrade_to_head
from tests.support.server import ADMIN_TOKEN, ServerProcess

pytestmark = pytest.mark.slow

PACKAGE = "hotdeals_generated_client"  # the generated package's import name
GENERATOR_TIMEOUT = 120.0  # seconds; it takes about one


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    url = f"sqlite:///{tmp_path_factory.mktemp('generator') / 'hotdeals.db'}"
    engine = make_engine(url)
    upgrade_to_head(engine)
    engine.dispose()
    with ServerProcess(url) as server:
        yield server


@pytest.fixture(scope="module")
def spec(server: ServerProcess) -> dict[str, Any]:
    document: dict[str, Any] = httpx.get(f"{server.base_url}/openapi.json", timeout=10).json()
    return document


def operations(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return [op for path in spec["paths"].values() for op in path.values()]


def test_operation_ids_are_the_endpoints_names_and_unique(spec: dict[str, Any]) -> None:
    ids = Counter(op["operationId"] for op in operations(spec))
    assert [name for name, count in ids.items() if count > 1] == []
    assert {"rank", "click", "click_by_id", "current_project", "create_project"} <= ids.keys()
    assert all(name.isidentifier() and name.islower() for name in ids)


def test_every_request_body_has_an_example(spec: dict[str, Any]) -> None:
    components = spec["components"]["schemas"]
    missing = []
    for op in operations(spec):
        for media in op.get("requestBody", {}).get("content", {}).values():
            schema = media.get("schema", {})
            if "$ref" in schema:
                schema = components[schema["$ref"].rsplit("/", 1)[1]]
            if not ({"example", "examples"} & (media.keys() | schema.keys())):
                missing.append(op["operationId"])
    assert missing == []


def test_error_responses_document_their_detail(spec: dict[str, Any]) -> None:
    """Every documented JSON error has a complete schema: ``detail`` a string or a list of
    ``{loc, msg, type}`` (an array without ``items`` made generators drop the response)."""
    for op in operations(spec):
        for status, response in op["responses"].items():
            schema = response.get("content", {}).get("application/json", {}).get("schema", {})
            if status < "400" or not schema or "$ref" in schema:  # a 2xx, FastAPI's own 422
                continue
            detail = schema["properties"]["detail"]["anyOf"]
            assert detail[0] == {"type": "string"}, (op["operationId"], status)
            item = detail[1]["items"]
            assert set(item["required"]) == {"loc", "msg", "type"}, (op["operationId"], status)


@pytest.fixture
def generated(
    spec: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Any]:
    """The generated client package, imported from ``tmp_path`` (and forgotten afterwards)."""
    (tmp_path / "openapi.json").write_text(json.dumps(spec), encoding="utf-8")
    # No post hooks: the default runs `ruff` on the output, which the test does not need.
    (tmp_path / "config.yaml").write_text("post_hooks: []\n", encoding="utf-8")
    command = [
        *(sys.executable, "-m", "openapi_python_client", "generate"),
        *("--path", str(tmp_path / "openapi.json")),
        *("--output-path", str(tmp_path / PACKAGE)),
        *("--config", str(tmp_path / "config.yaml")),
        *("--meta", "none", "--fail-on-warning"),
    ]
    run = subprocess.run(
        command, capture_output=True, text=True, timeout=GENERATOR_TIMEOUT, check=False
    )
    assert run.returncode == 0, run.stdout + run.stderr
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


def test_a_generated_client_creates_ranks_clicks_and_gets_a_409(
    generated: Any, server: ServerProcess
) -> None:
    with (
        generated.AuthenticatedClient(base_url=server.base_url, token=ADMIN_TOKEN) as admin,
        generated.Client(base_url=server.base_url) as shop,
    ):
        shop_through(admin, shop)


def operation(tag: str, name: str) -> Any:
    """A generated operation's module (``sync``, ``sync_detailed``, ``asyncio``, ...)."""
    return importlib.import_module(f"{PACKAGE}.api.{tag}.{name}")


def shop_through(admin: Any, shop: Any) -> None:
    """The learning loop through the generated client: ``admin`` sends the admin token."""
    models = importlib.import_module(f"{PACKAGE}.models")
    create_project = operation("projects", "create_project")
    update_project = operation("projects", "update_project")
    rank = operation("learning_loop", "rank")
    click = operation("learning_loop", "click")

    body = models.ProjectIn(
        project_name="Generated",
        currency="EUR",
        bandits=[models.DealIn(bandit_name="A", price="1.99"), models.DealIn(bandit_name="B")],
    )
    created = create_project.sync_detailed(client=admin, body=body)
    assert created.status_code == 201
    project = created.parsed
    assert isinstance(project, models.ProjectDetail)
    assert [deal.bandit_name for deal in project.bandits] == ["A", "B"]

    visitor = models.RankIn(visitor_id="v-generated")
    ranked = rank.sync_detailed(project.project_id, client=shop, body=visitor)
    assert ranked.status_code == 200
    assert isinstance(ranked.parsed, models.RankOut)
    deal = ranked.parsed.deals[0]
    assert deal.currency == "EUR"

    clicked = click.sync_detailed(client=shop, body=models.ClickIn(token=deal.click_token))
    assert clicked.status_code == 200
    assert isinstance(clicked.parsed, models.ClickOut)
    assert (clicked.parsed.transaction_id, clicked.parsed.already_recorded) == (
        deal.transaction_id,
        False,
    )

    pause = models.ProjectPatch(status=models.ProjectStatus.PAUSED)
    paused = update_project.sync(project.project_id, client=admin, body=pause)
    assert paused.status == models.ProjectStatus.PAUSED
    refused = rank.sync_detailed(project.project_id, client=shop, body=visitor)
    assert refused.status_code == 409
    assert isinstance(refused.parsed, models.RankResponse409)
    assert "paused" in refused.parsed.detail
