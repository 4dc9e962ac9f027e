from pathlib import Path

import git
import yaml

from publisher_cli.commands.init import detect_license

APACHE = """
                                 Apache License
                           Version 2.0, January 2004
                        http://www.apache.org/licenses/
"""
MIT = """MIT License

Copyright (c) 2024 Cheonan

Permission is hereby granted, free of charge, to any person obtaining a copy
"""
GPL3 = "                    GNU GENERAL PUBLIC LICENSE\n                       Version 3, 29 June 2007\n"
LGPL3 = "                   GNU LESSER GENERAL PUBLIC LICENSE\n                       Version 3, 29 June 2007\n"


def test_detect_license(tmp_path):
    cases = {"apache": (APACHE, "Apache-2.0"), "mit": (MIT, "MIT"), "gpl": (GPL3, "GPL-3.0-only"),
             "lgpl": (LGPL3, "LGPL-3.0-only"), "unknown": ("Custom terms", None)}
    for name, (text, expected) in cases.items():
        directory = tmp_path / name
        directory.mkdir()
        (directory / "LICENSE").write_text(text)
        assert detect_license(directory) == (expected, "LICENSE")
    assert detect_license(tmp_path) == (None, None)


def test_init_fills_what_it_can_learn(solreg, tmp_path):
    directory = tmp_path / "Air Quality Monitor"
    directory.mkdir()
    (directory / "LICENSE").write_text(APACHE)
    repo = git.Repo.init(directory)
    repo.create_remote("origin", "git@git.example.org:city/air-quality.git")
    result = solreg("init", str(directory), "--yes")
    assert result.returncode == 0, result.stderr
    manifest = yaml.safe_load((directory / "solution.yaml").read_text())
    assert manifest["manifestVersion"] == "1"
    assert manifest["name"] == "air-quality-monitor"
    assert manifest["version"] == "0.1.0"
    assert manifest["legal"]["license"] == "Apache-2.0"
    assert manifest["source"]["repository"] == "https://git.example.org/city/air-quality"
    assert "fill in:" in result.stdout and "title.ko" in result.stdout


def test_init_refuses_to_overwrite(solreg, tmp_path):
    (tmp_path / "solution.yaml").write_text("name: mine\n")
    result = solreg("init", str(tmp_path), "--yes")
    assert result.returncode == 1
    assert result.stderr.splitlines() == [f"error: {tmp_path / 'solution.yaml'} already exists; not overwriting it",
                                          "hint: remove it or use --force"]
    assert (tmp_path / "solution.yaml").read_text() == "name: mine\n"
    forced = solreg("init", str(tmp_path), "--yes", "--force")
    assert forced.returncode == 0
    assert "manifestVersion" in (tmp_path / "solution.yaml").read_text()


def test_init_imports_publiccode(solreg, tmp_path):
    publiccode = tmp_path / "publiccode.yml"
    publiccode.write_text(
        "publiccodeYmlVersion: '0.4'\nname: Bike Share\nurl: https://git.example.org/city/bike-share\n"
        "softwareVersion: 2.1.0\nplatforms: [web]\ncategories: [mobility]\ndevelopmentStatus: stable\n"
        "softwareType: standalone/web\n"
        "description:\n  en:\n    shortDescription: Shared bikes for residents\n"
        "    longDescription: A long description of the bike sharing service that is long enough.\n"
        "    features: [rent]\n"
        "legal:\n  license: EUPL-1.2\nmaintenance:\n  type: none\nlocalisation:\n  localisationReady: true\n"
        "  availableLanguages: [en]\n")
    result = solreg("init", str(tmp_path), "--yes", "--from-publiccode", str(publiccode))
    assert result.returncode == 0, result.stderr
    manifest = yaml.safe_load((tmp_path / "solution.yaml").read_text())
    assert manifest["legal"]["license"] == "EUPL-1.2"
    assert manifest["version"] == "2.1.0"
    assert manifest["source"]["repository"] == "https://git.example.org/city/bike-share"


def test_init_asks_on_a_terminal_and_writes_the_answers(tmp_path, config_home):
    """On a terminal (a real pseudo-terminal here) and without --yes, init asks for the blanks."""
    import os
    import pty
    import select
    import subprocess
    import sys
    import time

    directory = tmp_path / "parking"
    directory.mkdir()
    answers = ["parking-share", "주차 공유", "Parking sharing", "빈 주차면 공유", "Share idle parking spaces",
               "mobility,parking", "small-strong-population", "2024", "국토교통부", "천안시", "Apache-2.0",
               "천안시", "김담당", "parking@example.org", "https://git.example.org/cheonan/parking-share"]
    master, slave = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "publisher_cli", "init", str(directory)], stdin=slave,
                               stdout=slave, stderr=slave, env={**os.environ, "XDG_CONFIG_HOME": str(config_home)},
                               close_fds=True)
    os.close(slave)
    os.write(master, ("\n".join(answers) + "\n").encode())
    output = b""
    deadline = time.monotonic() + 60  # a hang guard: an unanswered prompt would wait forever
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            output += chunk
        elif process.poll() is not None:
            break
    if process.poll() is None:
        process.kill()
    assert process.wait(timeout=10) == 0, output.decode(errors="replace")
    os.close(master)
    assert b"funding programme" in output  # it really asked
    manifest = yaml.safe_load((directory / "solution.yaml").read_text(encoding="utf-8"))
    assert manifest["name"] == "parking-share"
    assert manifest["title"] == {"ko": "주차 공유", "en": "Parking sharing"}
    assert manifest["categories"] == ["mobility", "parking"]
    assert manifest["funding"]["programme"] == "small-strong-population" and manifest["funding"]["year"] == 2024
    assert manifest["legal"]["license"] == "Apache-2.0"
    assert manifest["maintenance"]["contacts"][0]["email"] == "parking@example.org"
    assert manifest["source"]["repository"] == "https://git.example.org/cheonan/parking-share"


FIXTURE_PUBLICCODE = Path(__file__).resolve().parent.parent / "fixtures" / "publiccode" / "publiccode.yml"


def fill_in_lines(stdout: str) -> dict[str, str]:
    return dict(line.removeprefix("fill in: ").split(" — ", 1) for line in stdout.splitlines()
                if line.startswith("fill in: "))


def test_init_from_publiccode_lists_each_field_it_could_not_fill(solreg, tmp_path):
    """deploy, sbom, funding, a contact's e-mail, a dependency's version: one fill-in line each."""
    directory = tmp_path / "flood-watch"
    directory.mkdir()
    text = FIXTURE_PUBLICCODE.read_text(encoding="utf-8").replace("      email: flood@gangneung.example.org\n", "")
    (directory / "publiccode.yml").write_text(text, encoding="utf-8")
    result = solreg("init", str(directory), "--yes")
    assert result.returncode == 0, result.stderr
    lines = fill_in_lines(result.stdout)
    assert set(lines) == {"deploy", "sbom", "funding.programme", "funding.year", "funding.municipality",
                          "maintenance.contacts[0].email", "dependsOn.services[2].version"}
    assert "Add 'deploy:'" in lines["deploy"]
    manifest = yaml.safe_load((directory / "solution.yaml").read_text(encoding="utf-8"))
    assert manifest["title"]["ko"] == "강릉 하천 범람 감시"
    assert manifest["dependsOn"]["services"][2] == {"name": "KT SMS Gateway"}


def test_init_without_publiccode_lists_the_blanks(solreg, tmp_path):
    directory = tmp_path / "air-quality"
    directory.mkdir()
    result = solreg("init", str(directory), "--yes")
    assert result.returncode == 0, result.stderr
    lines = fill_in_lines(result.stdout)
    for field in ("title.ko", "summary.en", "categories", "legal.license", "maintenance.contacts[0].email",
                  "deploy", "sbom", "funding.programme"):
        assert field in lines, field


def test_init_refuses_an_invalid_publiccode_with_the_fields(solreg, tmp_path):
    (tmp_path / "publiccode.yml").write_text(
        'publiccodeYmlVersion: "1.0"\nname: ""\nurl: https://example.org/x\n'
        "description:\n  ko_KR:\n    shortDescription: 하천 범람 감시\n", encoding="utf-8")
    result = solreg("init", str(tmp_path), "--yes")
    assert result.returncode == 1
    message = result.stderr.splitlines()[0]
    assert message.startswith(f"error: cannot import {tmp_path / 'publiccode.yml'}: publiccodeYmlVersion: '1.0' is not")
    assert "; name: is required but empty; description.ko_KR: 'ko_KR' is not a BCP 47 language tag" in message
    assert not (tmp_path / "solution.yaml").exists()
