"""``/v1/examples``: the scenario examples shipped with the package, and their sites ready to ``POST /v1/sites``."""

from __future__ import annotations

from importlib import resources
from typing import Annotated, Any

from fastapi import APIRouter, Path
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from api.auth import ApiKey
from api.repository import NotFoundError
from api.schemas import error_responses

router = APIRouter(prefix="/v1/examples", tags=["examples"])

ExampleName = Annotated[str, Path(pattern=r"^[a-z0-9_]{1,64}$", description="Example name, e.g. shenyang_factory.")]


class ExampleOut(BaseModel):
    name: str
    description: str
    site_name: str


def _files() -> dict[str, Any]:
    folder = resources.files("scenarios").joinpath("examples")
    return {p.name.removesuffix(".yaml"): p for p in folder.iterdir() if p.name.endswith(".yaml")}


def _load(name: str) -> Any:
    from scenarios.loader import load_scenario

    files = _files()
    if name not in files:
        raise NotFoundError("example", name)
    return load_scenario(str(files[name])).scenario


@router.get("")
async def list_examples(_: ApiKey) -> list[ExampleOut]:
    """The shipped examples (``scenarios/examples``)."""
    scenarios = [await run_in_threadpool(_load, name) for name in sorted(_files())]
    return [ExampleOut(name=s.name, description=s.description or "", site_name=s.site.name) for s in scenarios]


@router.get("/{name}/site", responses=error_responses(404, 422))
async def example_site(name: ExampleName, _: ApiKey) -> dict[str, Any]:
    """An example's site block as the body of ``POST /v1/sites`` (what its file says, defaults left out)."""
    scenario = await run_in_threadpool(_load, name)
    return scenario.site.model_dump(mode="json", exclude_unset=True)
