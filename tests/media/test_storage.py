"""The media store's contract, run against both backends: a folder and a bucket on a real
S3-protocol server (moto's, on loopback: tests/s3.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from fedi_town.media.storage import LocalMediaStore, MediaStore, safe_key
from fedi_town.services import media_store
from tests.conftest import make_settings

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["local", "s3"])
async def media(request: Any, tmp_path: Path) -> AsyncIterator[MediaStore]:
    """Each backend as configured by its settings, empty."""
    overrides: dict[str, Any] = {}
    if request.param == "s3":
        overrides = request.getfixturevalue("s3_settings")
    store = media_store(make_settings("sqlite:///unused", tmp_path, **overrides))
    try:
        yield store
    finally:
        await store.close()


async def test_what_is_put_comes_back_whole_by_get_and_stream(media: MediaStore):
    # Given an image stored under a new name
    data = bytes(range(256)) * 1000
    await media.put("0123abcd.webp", data, "image/webp")
    # When it is read whole and streamed
    got = await media.get("0123abcd.webp")
    streamed = await media.stream("0123abcd.webp")
    assert streamed is not None
    chunks = [chunk async for chunk in streamed.chunks]
    # Then both give every byte, and the stream says its size first
    assert got == data
    assert streamed.size == len(data) and b"".join(chunks) == data
    assert await media.size("0123abcd.webp") == len(data)


async def test_a_key_never_stored_is_none_everywhere(media: MediaStore):
    assert await media.get("missing.png") is None
    assert await media.stream("missing.png") is None
    assert await media.size("missing.png") is None


async def test_a_deleted_object_is_gone_and_deleting_it_again_is_fine(media: MediaStore):
    # Given a stored object
    await media.put("gone.png", b"png", "image/png")
    # When it is deleted twice
    await media.delete("gone.png")
    await media.delete("gone.png")
    # Then it is gone
    assert await media.size("gone.png") is None
    assert await media.get("gone.png") is None


async def test_keys_lists_every_object_stored(media: MediaStore):
    # Given three objects, one under a folder as older uploads were
    for key in ("a.png", "b.jpeg", "ab/cd/c.webp"):
        await media.put(key, key.encode(), "image/png")
    # When the keys are listed
    found = sorted([key async for key in media.keys()])
    # Then each is there once
    assert found == ["a.png", "ab/cd/c.webp", "b.jpeg"]


async def test_storing_again_under_a_key_replaces_it(media: MediaStore):
    await media.put("same.png", b"first", "image/png")
    await media.put("same.png", b"second", "image/png")
    assert await media.get("same.png") == b"second"


@pytest.mark.parametrize("key", ["../escape.png", "/abs.png", "a\\b.png", ".hidden", "a/../b"])
async def test_a_key_that_is_not_a_plain_relative_path_is_refused(media: MediaStore, key: str):
    # Then writing and deleting it are refused, reading it finds nothing
    with pytest.raises(ValueError, match="not a media key"):
        await media.put(key, b"x", "image/png")
    with pytest.raises(ValueError, match="not a media key"):
        await media.delete(key)
    assert await media.get(key) is None
    assert await media.size(key) is None


def test_safe_keys_are_plain_relative_paths():
    assert safe_key("0123.webp") and safe_key("ab/cd/x.png")
    for bad in ("", "/x", "..", "a//b", "a/./b", "x\x00", ".x.part", "a/.b"):
        assert not safe_key(bad), bad


async def test_a_local_put_leaves_no_temporary_file_and_makes_the_folder(tmp_path: Path):
    # Given a media folder that does not exist yet
    store = LocalMediaStore(tmp_path / "media")
    # When an object is stored
    await store.put("x.png", b"png", "image/png")
    # Then the folder holds exactly that file
    assert [p.name for p in (tmp_path / "media").iterdir()] == ["x.png"]


async def test_a_local_symlink_out_of_the_folder_is_not_followed(tmp_path: Path):
    # Given a secret beside the media folder and a link to it inside
    (tmp_path / "secret.txt").write_text("secret")
    (tmp_path / "media").mkdir()
    (tmp_path / "media" / "link.png").symlink_to(tmp_path / "secret.txt")
    store = LocalMediaStore(tmp_path / "media")
    # Then the link reads as nothing
    assert await store.get("link.png") is None
    assert store.file_path("link.png") is None


async def test_a_part_of_an_object_streams_only_those_bytes(media: MediaStore):
    # Given a stored object of 1,000 bytes
    data = bytes(range(250)) * 4
    await media.put("part.png", data, "image/png")
    # When bytes 100 to 349 are streamed
    streamed = await media.stream("part.png", (100, 350))
    assert streamed is not None
    # Then exactly those come, and the size says how many
    assert streamed.size == 250
    assert b"".join([chunk async for chunk in streamed.chunks]) == data[100:350]
