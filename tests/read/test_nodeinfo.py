"""NodeInfo: discovery, 2.0 and 2.1 documents valid against the official schema's shape."""

from __future__ import annotations

import copy

import pytest
from jsonschema import Draft4Validator

from fedi_town import __version__
from fedi_town.errors import ConfigError
from fedi_town.read.nodeinfo import installed_software_links, nodeinfo_document, software_links
from fedi_town.settings import Settings
from tests.conftest import admin_headers, create_business
from tests.read.helpers import insert_post

pytestmark = pytest.mark.anyio

# The shape of jhass/nodeinfo schemas/2.1/schema.json (enums of protocols and services cut
# to what matters here); 2.0 differs in "version" and has no repository/homepage.
_COUNT = {"type": "integer", "minimum": 0}
SCHEMA_2_1 = {
    "$schema": "http://json-schema.org/draft-04/schema#",
    "type": "object",
    "additionalProperties": False,
    "required": [
        "version",
        "software",
        "protocols",
        "services",
        "openRegistrations",
        "usage",
        "metadata",
    ],
    "properties": {
        "version": {"enum": ["2.1"]},
        "software": {
            "type": "object",
            "additionalProperties": False,
            "required": ["name", "version"],
            "properties": {
                "name": {"type": "string", "pattern": "^[a-z0-9-]+$"},
                "version": {"type": "string"},
                "repository": {"type": "string"},
                "homepage": {"type": "string"},
            },
        },
        "protocols": {
            "type": "array",
            "minItems": 1,
            "items": {"enum": ["activitypub", "diaspora", "ostatus", "xmpp", "zot"]},
        },
        "services": {
            "type": "object",
            "additionalProperties": False,
            "required": ["inbound", "outbound"],
            "properties": {
                "inbound": {"type": "array", "minItems": 0},
                "outbound": {"type": "array", "minItems": 0},
            },
        },
        "openRegistrations": {"type": "boolean"},
        "usage": {
            "type": "object",
            "additionalProperties": False,
            "required": ["users"],
            "properties": {
                "users": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "total": _COUNT,
                        "activeHalfyear": _COUNT,
                        "activeMonth": _COUNT,
                    },
                },
                "localPosts": _COUNT,
                "localComments": _COUNT,
            },
        },
        "metadata": {"type": "object", "minProperties": 0, "additionalProperties": True},
    },
}
SCHEMA_2_0 = copy.deepcopy(SCHEMA_2_1)
SCHEMA_2_0["properties"]["version"] = {"enum": ["2.0"]}
del SCHEMA_2_0["properties"]["software"]["properties"]["repository"]
del SCHEMA_2_0["properties"]["software"]["properties"]["homepage"]


async def test_discovery_links_both_versions(app_client):
    response = await app_client.get("/.well-known/nodeinfo")
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.json() == {
        "links": [
            {
                "rel": "http://nodeinfo.diaspora.software/ns/schema/2.0",
                "href": "https://town.example/nodeinfo/2.0",
            },
            {
                "rel": "http://nodeinfo.diaspora.software/ns/schema/2.1",
                "href": "https://town.example/nodeinfo/2.1",
            },
        ]
    }


@pytest.mark.parametrize(("version", "schema"), [("2.0", SCHEMA_2_0), ("2.1", SCHEMA_2_1)])
async def test_nodeinfo_documents_match_the_schema(app_client, version, schema):
    response = await app_client.get(f"/nodeinfo/{version}")
    assert response.status_code == 200
    assert response.headers["content-type"] == (
        f'application/json; profile="http://nodeinfo.diaspora.software/ns/schema/{version}#"'
    )
    assert response.headers["access-control-allow-origin"] == "*"
    document = response.json()
    assert list(Draft4Validator(schema).iter_errors(document)) == []
    assert document["software"]["name"] == "fedi-town"
    assert document["software"]["version"] == __version__
    assert document["protocols"] == ["activitypub"]
    assert document["openRegistrations"] is False


async def test_2_1_names_only_the_links_the_installed_package_publishes(app_client):
    # The served links are exactly the installed package's [project.urls], none invented
    software = (await app_client.get("/nodeinfo/2.1")).json()["software"]
    published = installed_software_links()
    assert {k: software[k] for k in ("repository", "homepage") if k in software} == published


def test_project_urls_name_the_repository_and_the_homepage():
    lines = [
        "Homepage, https://fedi-town.example/",
        "Repository, https://code.example/fedi-town/fedi-town",
        "Changelog, https://code.example/fedi-town/fedi-town/CHANGELOG.md",
        "Source, https://mirror.example/fedi-town",
        "Bug Tracker, javascript:alert(1)",
    ]
    assert software_links(lines) == {
        "homepage": "https://fedi-town.example/",
        "repository": "https://code.example/fedi-town/fedi-town",
    }
    assert software_links([]) == {}


@pytest.mark.parametrize(("version", "schema"), [("2.0", SCHEMA_2_0), ("2.1", SCHEMA_2_1)])
def test_software_links_are_in_2_1_only_and_keep_each_schema(version, schema):
    links = {"repository": "https://code.example/ft", "homepage": "https://ft.example/"}
    document = nodeinfo_document(version, Settings.from_env({}), 3, 7, links)
    assert list(Draft4Validator(schema).iter_errors(document)) == []
    has_links = {"repository", "homepage"} <= document["software"].keys()
    assert has_links == (version == "2.1")


async def test_usage_counts_live_businesses_and_their_published_posts(app_client):
    # Given two live businesses, one deleted, and posts in various states
    await create_business(app_client, "bakery")
    await create_business(app_client, "cafe")
    await create_business(app_client, "gone")
    await insert_post(app_client, "bakery")
    await insert_post(app_client, "bakery", visibility="followers")
    await insert_post(app_client, "cafe")
    await insert_post(app_client, "cafe", published_at=None)  # scheduled
    await insert_post(app_client, "cafe", deleted_at=1)
    await insert_post(app_client, "gone")
    await app_client.delete("/api/v1/businesses/gone", headers=admin_headers())
    # When NodeInfo is read
    usage = (await app_client.get("/nodeinfo/2.1")).json()["usage"]
    # Then users are the live businesses and posts the published, non-deleted ones
    assert usage["users"] == {"total": 2, "activeMonth": 2, "activeHalfyear": 2}
    assert usage["localPosts"] == 3


async def test_metadata_names_the_instance(make_client):
    async with make_client(instance_name="Springfield", instance_description="Shops") as client:
        metadata = (await client.get("/nodeinfo/2.0")).json()["metadata"]
    assert metadata == {"nodeName": "Springfield", "nodeDescription": "Shops"}


async def test_unknown_nodeinfo_version_is_404(app_client):
    response = await app_client.get("/nodeinfo/1.0")
    assert response.status_code == 404


async def test_operator_set_links_fill_what_the_package_does_not_publish(make_client):
    # Given an operator who publishes the source they run and names a home page
    async with make_client(
        software_repository="https://code.example/town/fedi-town",
        software_homepage="https://town.example/about",
    ) as client:
        # When NodeInfo 2.1 and 2.0 are read
        v21 = (await client.get("/nodeinfo/2.1")).json()["software"]
        v20 = (await client.get("/nodeinfo/2.0")).json()["software"]
    # Then 2.1 names them where the installed package publishes none; 2.0 has no such keys
    published = installed_software_links()
    assert v21["repository"] == published.get("repository", "https://code.example/town/fedi-town")
    assert v21["homepage"] == published.get("homepage", "https://town.example/about")
    assert "repository" not in v20 and "homepage" not in v20


def test_published_links_win_over_settings_and_unset_settings_add_nothing():
    # Given settings naming a repository and a package that publishes one
    settings = Settings.from_env({"FEDI_TOWN_SOFTWARE_REPOSITORY": "https://code.example/mine"})
    published = {"repository": "https://code.example/upstream"}
    # Then the package's wins, and the unset homepage stays out
    assert nodeinfo_document("2.1", settings, 1, 1, published)["software"] == {
        "name": "fedi-town",
        "version": __version__,
        "repository": "https://code.example/upstream",
    }
    assert nodeinfo_document("2.1", settings, 1, 1, {})["software"]["repository"] == (
        "https://code.example/mine"
    )
    assert "homepage" not in nodeinfo_document("2.1", settings, 1, 1, {})["software"]


def test_software_link_settings_must_be_http_urls():
    with pytest.raises(ConfigError):
        Settings.from_env({"FEDI_TOWN_SOFTWARE_HOMEPAGE": "javascript:alert(1)"})
