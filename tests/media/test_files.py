"""Processed images kept on disk: new unguessable names, whole files, safe removal."""

from __future__ import annotations

from pathlib import Path

import pytest

from fedi_town.media.files import remove, save


def test_a_saved_file_has_a_new_random_name_and_all_its_bytes(tmp_path: Path):
    # Given a media directory that does not exist yet
    media_dir = tmp_path / "media"
    # When the same bytes are saved twice
    first = save(media_dir, b"image bytes", "webp")
    second = save(media_dir, b"image bytes", "webp")
    # Then each is a new 128-bit name with the suffix, holding every byte
    assert first != second
    for name in (first, second):
        stem, suffix = name.split(".")
        assert suffix == "webp" and len(stem) == 32 and int(stem, 16) >= 0
        assert (media_dir / name).read_bytes() == b"image bytes"
    # And no temporary file is left behind
    assert sorted(p.name for p in media_dir.iterdir()) == sorted([first, second])


def test_a_removed_file_is_gone_and_removing_it_again_is_fine(tmp_path: Path):
    # Given a saved file
    name = save(tmp_path, b"x", "png")
    # When it is removed twice
    remove(tmp_path, name)
    remove(tmp_path, name)
    # Then it is gone and the second removal did not fail
    assert not (tmp_path / name).exists()


@pytest.mark.parametrize("name", ["../town.sqlite3", "a/b.png", "a\\b.png", ".hidden", ".."])
def test_a_name_that_is_not_a_bare_file_name_is_refused(tmp_path: Path, name: str):
    # Given a file outside the media directory that must survive
    (tmp_path / "town.sqlite3").write_bytes(b"db")
    media_dir = tmp_path / "media"
    media_dir.mkdir()
    # When removal is asked for a path, not a name
    with pytest.raises(ValueError, match="not a media file name"):
        remove(media_dir, name)
    # Then nothing was deleted
    assert (tmp_path / "town.sqlite3").read_bytes() == b"db"
