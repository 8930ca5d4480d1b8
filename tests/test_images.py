"""The image cache key: rebuild exactly when the recipe or the trusted CAs change."""

from tools import images

BOOKWORM = images.DISTROS["debian12"]


def test_recipe_hash_is_stable(tmp_path):
    cert = tmp_path / "corp.crt"
    cert.write_text("-----BEGIN CERTIFICATE-----\nA\n-----END CERTIFICATE-----\n")
    assert images.recipe_hash(BOOKWORM, [cert]) == images.recipe_hash(BOOKWORM, [cert])


def test_recipe_hash_changes_with_a_ca_certificate(tmp_path):
    cert = tmp_path / "corp.crt"
    cert.write_text("one")
    before = images.recipe_hash(BOOKWORM, [cert])
    cert.write_text("two")
    assert images.recipe_hash(BOOKWORM, [cert]) != before


def test_recipe_hash_differs_per_suite():
    assert images.recipe_hash(BOOKWORM, []) != images.recipe_hash(images.DISTROS["debian13"], [])


def test_extra_ca_certs_finds_crt_files_only(tmp_path):
    (tmp_path / "a.crt").write_text("a")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.crt").write_text("b")
    (tmp_path / "readme.txt").write_text("no")
    assert [p.name for p in images.extra_ca_certs(tmp_path)] == ["a.crt", "b.crt"]


def test_missing_ca_dir_means_no_certs(tmp_path):
    assert images.extra_ca_certs(tmp_path / "absent") == []
