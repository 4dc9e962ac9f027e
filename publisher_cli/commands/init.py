"""``solreg init``: write a solution.yaml skeleton from what the directory already tells us."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import click

LICENSE_FILES = ("LICENSE", "LICENSE.md", "LICENSE.txt", "LICENCE", "LICENCE.md", "COPYING", "COPYING.md")

# Headlines of well-known licence texts, checked in order (most specific first:
# the LGPL and AGPL texts mention the GPL, the GPL-3.0 text mentions version 2).
# The licence text alone cannot tell "-only" from "-or-later"; we pick "-only"
# and say so in the notes.
_LICENSE_HEADLINES: tuple[tuple[str, str], ...] = (
    (r"GNU AFFERO GENERAL PUBLIC LICENSE\s+Version 3", "AGPL-3.0-only"),
    (r"GNU LESSER GENERAL PUBLIC LICENSE\s+Version 3", "LGPL-3.0-only"),
    (r"GNU LESSER GENERAL PUBLIC LICENSE\s+Version 2\.1", "LGPL-2.1-only"),
    (r"GNU GENERAL PUBLIC LICENSE\s+Version 3", "GPL-3.0-only"),
    (r"GNU GENERAL PUBLIC LICENSE\s+Version 2", "GPL-2.0-only"),
    (r"Apache License\s+Version 2\.0", "Apache-2.0"),
    (r"Mozilla Public License,? Version 2\.0", "MPL-2.0"),
    (r"EUROPEAN UNION PUBLIC LICEN[CS]E v\.? ?1\.2", "EUPL-1.2"),
    (r"Eclipse Public License - v 2\.0", "EPL-2.0"),
    (r"This is free and unencumbered software released into the public domain", "Unlicense"),
    (r"CC0 1\.0 Universal", "CC0-1.0"),
    (r"Permission to use, copy, modify, and(/or)? distribute this software for any", "ISC"),
    (r"Redistribution and use in source and binary forms.*?Neither the name", "BSD-3-Clause"),
    (r"Redistribution and use in source and binary forms", "BSD-2-Clause"),
    (r"Permission is hereby granted, free of charge, to any person obtaining a copy", "MIT"),
)


@dataclass
class Skeleton:
    manifest: dict[str, Any]
    notes: list[str] = field(default_factory=list)


def detect_license(directory: Path) -> tuple[str | None, str | None]:
    """(SPDX id, licence file name) from the first licence file whose headline we know."""
    for filename in LICENSE_FILES:
        path = directory / filename
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")[:20_000]
        for pattern, spdx in _LICENSE_HEADLINES:
            if re.search(pattern, text, re.IGNORECASE | re.DOTALL):
                return spdx, filename
        return None, filename
    return None, None


def _blank_manifest(name: str) -> dict[str, Any]:
    return {
        "manifestVersion": "1",
        "name": name,
        "version": "0.1.0",
        "title": {"ko": "", "en": ""},
        "summary": {"ko": "", "en": ""},
        "description": {"ko": "", "en": ""},
        "keywords": [],
        "categories": [],
        "developmentStatus": "development",
        # Programme and year are left blank, not guessed: a guess would pass `solreg check` unnoticed.
        "funding": {"programme": "", "year": None, "fundedBy": "", "municipality": ""},
        "legal": {"license": "", "copyrightOwner": ""},
        "maintenance": {"type": "internal", "contacts": [{"name": "", "email": ""}]},
        "source": {"repository": ""},
    }


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> None:
    """Fill ``base`` with the non-empty values of ``extra`` (nested maps merged)."""
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        elif value not in (None, "", [], {}):
            base[key] = value


def discover(directory: Path, publiccode: Path | None = None) -> Skeleton:
    """Everything init can learn without asking."""
    from registry.spec.names import slugify

    name = slugify(directory.resolve().name)
    notes: list[str] = []
    if len(name) < 3:
        notes.append(f"could not make a name from the directory name; set `name` (got {name!r})")
    manifest = _blank_manifest(name if len(name) >= 3 else "")

    if publiccode is not None:
        from publisher_cli.errors import ManifestError
        from registry.spec.publiccode import PubliccodeError, publiccode_to_manifest

        try:
            imported = publiccode_to_manifest(publiccode.read_bytes())
        except (PubliccodeError, OSError) as exc:
            raise ManifestError(f"cannot import {publiccode}: {exc}",
                                hint="fix the file or drop --from-publiccode") from None
        _merge(manifest, imported.manifest)
        notes += [f"publiccode.yml: {note}" for note in imported.notes]

    if not manifest["legal"].get("license"):
        spdx, filename = detect_license(directory)
        if spdx:
            manifest["legal"]["license"] = spdx
            if spdx.endswith("-only"):
                notes.append(f"{filename} is {spdx.removesuffix('-only')}; use -or-later if your headers say so")
        elif filename:
            notes.append(f"did not recognise the licence in {filename}; set legal.license to its SPDX id")

    if not manifest["source"].get("repository"):
        try:
            from publisher_cli.errors import GitError
            from publisher_cli.gitinfo import open_repo, origin_url

            url = origin_url(open_repo(directory))
        except GitError:
            url = None
        if url:
            manifest["source"]["repository"] = url
    if (directory / "sbom.cdx.json").is_file() and "sbom" not in manifest:
        manifest["sbom"] = "sbom.cdx.json"
    return Skeleton(manifest, notes)


def ask(manifest: dict[str, Any]) -> None:
    """Fill the blanks interactively (only called on a terminal without --yes)."""
    from registry.spec.vocabulary import CATEGORIES, PROGRAMMES

    def text(label: str, current: str) -> str:
        return str(click.prompt(label, default=current or "", show_default=bool(current))).strip()

    manifest["name"] = text("name (slug)", manifest["name"])
    for block in ("title", "summary"):
        for lang in ("ko", "en"):
            manifest[block][lang] = text(f"{block} ({lang})", manifest[block].get(lang, ""))
    chosen = text(f"categories, comma-separated ({', '.join(CATEGORIES)})", ",".join(manifest["categories"]))
    manifest["categories"] = [c.strip() for c in chosen.split(",") if c.strip()]
    funding = manifest["funding"]
    funding["programme"] = click.prompt("funding programme", type=click.Choice(PROGRAMMES),
                                        default=funding["programme"] or "other")
    funding["year"] = click.prompt("funding year", type=int, default=funding["year"] or date.today().year)
    funding["fundedBy"] = text("funded by", funding.get("fundedBy", ""))
    funding["municipality"] = text("municipality", funding.get("municipality", ""))
    legal = manifest["legal"]
    legal["license"] = text("licence (SPDX)", legal.get("license", ""))
    legal["copyrightOwner"] = text("copyright owner", legal.get("copyrightOwner", "") or funding["municipality"])
    contact = manifest["maintenance"]["contacts"][0]
    contact["name"] = text("contact name", contact.get("name", ""))
    contact["email"] = text("contact e-mail", contact.get("email", ""))
    manifest["source"]["repository"] = text("source repository URL", manifest["source"].get("repository", ""))


# The validator's codes for "nothing written here yet".
_FILL_IN_CODES = frozenset({"missing-field", "categories-empty", "text-empty"})


def fill_in(manifest: dict[str, Any]) -> list[tuple[str, str]]:
    """(field path, what to do) for every required field the skeleton leaves blank or lacks.

    The manifest validator decides what is required, so this list cannot drift from
    what `solreg check` and the registry refuse.
    """
    from registry.spec.validator import validate_manifest

    report = validate_manifest(render(manifest))
    return [(p.path, p.hint or p.message) for p in report.errors if p.code in _FILL_IN_CODES]



def render(manifest: dict[str, Any]) -> str:
    import yaml

    header = ("# solution.yaml (manifest v1), written by `solreg init`.\n"
              "# Fill in the empty fields, then run `solreg check`.\n")
    return header + yaml.safe_dump(manifest, sort_keys=False, allow_unicode=True, width=100)


def init_solution(directory: Path, *, publiccode: Path | None = None, interactive: bool = False,
                  force: bool = False) -> tuple[Path, Skeleton]:
    from publisher_cli.errors import ManifestError
    from publisher_cli.manifest import MANIFEST_NAME

    if not directory.is_dir():
        raise ManifestError(f"{directory} is not a directory", hint="create it first or pass another PATH")
    target = directory / MANIFEST_NAME
    if target.exists() and not force:
        raise ManifestError(f"{target} already exists; not overwriting it",
                            hint="remove it or use --force")
    if publiccode is None and (directory / "publiccode.yml").is_file():
        publiccode = directory / "publiccode.yml"
    skeleton = discover(directory, publiccode)
    if interactive:
        ask(skeleton.manifest)
    target.write_text(render(skeleton.manifest), encoding="utf-8")
    return target, skeleton


@click.command("init")
@click.argument("path", type=click.Path(file_okay=False, path_type=Path), default=".")
@click.option("--from-publiccode", "publiccode", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Import an existing publiccode.yml (found automatically in PATH).")
@click.option("--yes", "-y", is_flag=True, help="Do not ask questions.")
@click.option("--force", is_flag=True, help="Overwrite an existing solution.yaml.")
def init_command(path: Path, publiccode: Path | None, yes: bool, force: bool) -> None:
    """Write a solution.yaml skeleton for the solution in PATH."""
    interactive = sys.stdin.isatty() and not yes
    target, skeleton = init_solution(path, publiccode=publiccode, interactive=interactive, force=force)
    click.echo(f"wrote {target}")
    for note in skeleton.notes:
        click.echo(f"note: {note}")
    for path, todo in fill_in(skeleton.manifest):
        click.echo(f"fill in: {path} — {todo}")
    click.echo("then run `solreg check`")


COMMANDS = [init_command]
