"""The stand-in release mirror lays files out as the Apache and H2O release sites do, and its
checksum files are read by get_url the way the real ones are."""

import hashlib
import importlib.util
from pathlib import Path

from ansible.modules.get_url import parse_digest_lines

ROOT = Path(__file__).resolve().parents[2]


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


mirror_server = _load("mirror_server", ROOT / "molecule/shared/mirror_server.py")
h2o_bundle = _load("h2o_bundle", ROOT / "roles/h2o/files/h2o_bundle.py")


def test_served_paths_are_the_release_sites():
    spark = {"version": "4.3.0", "name": "spark-4.3.0-bin-hadoop3.tgz", "path": "/c/s.tgz"}
    h2o = {"version": "3.46.0.12", "branch": "rel-3.46.0", "build": "12", "release_dir": "/c/r"}
    assert mirror_server.layout(spark, h2o) == {
        "spark/spark-4.3.0/spark-4.3.0-bin-hadoop3.tgz": "/c/s.tgz",
        "spark/spark-4.3.0/spark-4.3.0-bin-hadoop3.tgz.sha512": "/c/s.tgz.sha512",
        "h2o/rel-3.46.0/12/h2o-3.46.0.12.zip": "/c/r/h2o-3.46.0.12.zip",
        "h2o/rel-3.46.0/12/sha256.txt": "/c/r/sha256.txt",
    }


def test_h2o_release_dir_is_a_zip_and_the_sha256sum_listing_it(tmp_path):
    jar = tmp_path / "h2o.jar"
    jar.write_bytes(b"not really a jar")
    release = tmp_path / "rel-3.46.0" / "12"
    h2o_bundle.write_release_dir(jar, "3.46.0.12", release, tmp_path)

    assert sorted(p.name for p in release.iterdir()) == ["h2o-3.46.0.12.zip", "sha256.txt"]
    digest = hashlib.sha256((release / "h2o-3.46.0.12.zip").read_bytes()).hexdigest()
    assert (release / "sha256.txt").read_text() == f"{digest}  h2o-3.46.0.12.zip\n"


def test_get_url_picks_the_zip_line_of_a_multi_zip_sha256_txt():
    # The real sha256.txt lists the Hadoop zips too; get_url must take the line named like the zip.
    lines = [
        f"{'a' * 64}  h2o-3.46.0.12-cdh6.3.zip",
        f"{'b' * 64}  h2o-3.46.0.12-emr6.10.zip",
        f"{'c' * 64}  h2o-3.46.0.12.zip",
    ]
    parsed = parse_digest_lines("h2o-3.46.0.12.zip", lines)
    assert [digest for digest, name in parsed if name == "h2o-3.46.0.12.zip"] == ["c" * 64]


def test_the_h2o_role_checks_the_zip_against_the_release_dirs_sha256_txt():
    import yaml
    from ansible.parsing.dataloader import DataLoader
    from ansible.template import Templar, trust_as_template

    role = ROOT / "roles/h2o"
    found = yaml.safe_load((role / "vars/main.yml").read_text())
    defaults = yaml.safe_load((role / "defaults/main.yml").read_text())
    variables = {
        "h2o_mirror_url": "",
        "h2o_mirror_checksum": "",
        "h2o_mirror_base_url": defaults["h2o_mirror_base_url"],
        "__h2o_version": "3.46.0.7",
        "__h2o_mirror_url": trust_as_template(found["__h2o_mirror_url"]),
    }
    templar = Templar(loader=DataLoader(), variables=variables)
    release = "https://h2o-release.s3.amazonaws.com/h2o/rel-3.46.0/7"
    assert templar.template(trust_as_template(found["__h2o_mirror_url"])) == (
        f"{release}/h2o-3.46.0.7.zip"
    )
    assert templar.template(trust_as_template(found["__h2o_mirror_checksum"])) == (
        f"sha256:{release}/sha256.txt"
    )
