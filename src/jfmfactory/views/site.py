"""`jfm site OUT`: a static site of the approved catalog that fetches nothing from outside itself.

Only approved roles are published: each role's latest version, `published/ROLE/vN.json`
(`records.versions`). A role's page at a level is the published level page (`level.html.j2`,
`level.catalog_view`), that level highlighted, each item followed by the quotes it rests on, with
the panel's verdict, the approval record and the site's navigation around it.

URLs are stable: a role at a level is named by its code, FAMILY.FOCUS.LEVEL (the catalog's, as
the approved profile carries it), e.g. PRODUC0.PRODUCTM716F.P6:

    index.html                   the catalog, domain → family → focus → levels, and the search box
    roles/CODE.html              a role at a level
    compare.html?a=CODE&b=CODE   two role-levels side by side (two levels of a role, or two roles)
    data/CODE.json               what the compare page shows of a role-level (`CompareColumn`)
    site.css, site.js            the site's style (for print too) and its one script
    pagefind/                    the search index and its UI, written by Pagefind over the pages
    jfm-site.json                the marker (`SiteMarker`): a site jfm wrote, which it may replace

The search indexes each level page's `data-pagefind-body` (title, aliases, skills, duties), with
the domain, family and level as filters. It and the compare page load files with fetch, which
browsers allow over http only: serve OUT with any static server (`python -m http.server -d OUT`);
the pages themselves open from disk too.

OUT is new, empty, or a site jfm wrote. The site is built in a folder beside OUT and renamed into
place, so a build that fails leaves the site that was there whole.
"""

from __future__ import annotations

import functools
import itertools
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from pagefind_bin import get_executable
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..catalog.catalog import Catalog, Focus, load_catalog
from ..errors import BadInput, JfmError
from ..inputs.project import Project
from ..records.markdown import rests_on
from ..records.profile import GUIDELINE_COLUMNS, Profile, code_at_level
from ..records.runlog import now
from ..records.store import UMASK
from ..records.versions import PUBLISHED_DIR, Version, VersionStore
from .level import CatalogView, catalog_view
from .rendering import render_template

MARKER = "jfm-site.json"
GENERATOR = "jfm site"
ROLES_DIR = "roles"
DATA_DIR = "data"
STATIC = ("site.css", "site.js")
OFF_CATALOG = "Not in the catalog"
#: What the search leaves out of a level page: what every page shares (the rubric, neighbours,
#: classification, guideline table), the quotes, and the verdict and approval.
NOT_SEARCHED = (
    "#level-block, #adjacent, #classification, table.guidelines, blockquote.evidence, #verdict, "
    "#approval, .banner, .crumbs .code"
)
#: A code is a file name in the site.
CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class SiteMarker(BaseModel):
    """`OUT/jfm-site.json`: what tells a site jfm wrote (and may replace) from any other folder."""

    model_config = ConfigDict(extra="forbid")

    generator: str = Field(description="Always 'jfm site'.")
    built_at: str = Field(description="When the site was built (UTC, ISO 8601).")
    roles: int = Field(ge=1, description="How many approved roles it publishes.")
    pages: int = Field(ge=1, description="How many role-level pages it holds.")


class CompareRow(BaseModel):
    """One aspect of a role-level, as the compare table shows it."""

    model_config = ConfigDict(extra="forbid")

    aspect: str = Field(description="The row heading: Code, Level, Responsibilities, a guideline column…")
    text: str = Field(description="Its text; lines are kept (the page shows them as lines).")


class CompareColumn(BaseModel):
    """`OUT/data/CODE.json`: one side of the compare page, the aspects of `jfm compare`."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(description="The role-level's code, FAMILY.FOCUS.LEVEL.")
    label: str = Field(description="Title and level, e.g. 'Product Management — P6'.")
    page: str = Field(description="Its page, relative to the site's root.")
    rows: list[CompareRow] = Field(description="The aspects, in the order of `jfm compare`.")


@dataclass(frozen=True)
class PublishedRole:
    """An approved role: its latest version and where the catalog puts it (None: not in it)."""

    version: Version
    focus: Focus | None

    @property
    def profile(self) -> Profile:
        return self.version.profile

    @property
    def domain(self) -> str:
        return self.focus.domain if self.focus else OFF_CATALOG

    @property
    def family(self) -> str:
        return self.focus.family if self.focus else self.profile.family

    @property
    def titles(self) -> list[str]:
        """The titles that name the role: the catalog's aliases, then the profile's."""
        catalog = self.focus.entry.aliases if self.focus else []
        titles: dict[str, str] = {}
        for title in [*catalog, *(alias.title for alias in self.profile.aliases)]:
            titles.setdefault(title.casefold(), title)
        return list(titles.values())

    def code(self, level: str) -> str:
        return code_at_level(self.profile.code, level)

    def page(self, level: str) -> str:
        """The role-level's page, relative to the site's root."""
        return f"{ROLES_DIR}/{self.code(level)}.html"


@dataclass(frozen=True)
class SiteBuilt:
    """What `build_site` wrote."""

    folder: Path
    roles: int
    pages: int


def published_roles(project: Project, catalog: Catalog | None) -> list[PublishedRole]:
    """Every role with an approved version, in catalog order (domain, family, focus), then the
    roles the catalog lacks; two with one code are an error."""
    folder = project.root / PUBLISHED_DIR
    names = sorted(path.name for path in folder.iterdir() if path.is_dir()) if folder.is_dir() else []
    found = []
    for name in names:
        version = VersionStore(project.root, name).latest()
        if version is not None:
            found.append(PublishedRole(version, catalog.for_role(name) if catalog else None))
    domains: dict[str, int] = {}
    for domain in catalog.domain_of.values() if catalog else []:
        domains.setdefault(domain, len(domains))
    families = {family: n for n, family in enumerate(catalog.domain_of)} if catalog else {}
    foci = {focus.name: n for n, focus in enumerate(catalog.foci)} if catalog else {}

    def order(role: PublishedRole) -> tuple[int, int, int, str, str]:
        if role.focus is None:
            return (len(domains), 0, 0, role.family, role.profile.title)
        return (domains[role.domain], families[role.family], foci[role.focus.name], "", "")

    found.sort(key=order)
    owners: dict[str, str] = {}
    for role in found:
        code = role.profile.code
        if not CODE.match(code):
            raise BadInput(
                f"{folder / role.version.role}: v{role.version.version}: its code {code!r} cannot name a "
                "page (letters, digits, '.', '_' and '-' only)"
            )
        if code in owners:
            raise BadInput(f"{folder}: {owners[code]} and {role.version.role} share the code {code}")
        owners[code] = role.version.role
    return found


def compare_column(role: PublishedRole, level: str, context: CatalogView | None) -> CompareColumn:
    """A role-level's side of the compare page: the rows of `entry.Comparison.rows`, one side."""
    profile = role.profile
    mappings = context.mappings if context else []
    rows = [
        ("Code", role.code(level)),
        ("Level", f"{context.block.name} ({context.block.years_text})" if context else "–"),
        ("SOC 2018", f"{mappings[0].code} {mappings[0].title}" if mappings else "–"),
        ("Responsibilities", "\n".join(f"• {item.text}" for item in profile.responsibilities[level])),
        *(
            (heading, getattr(profile.guidelines[level], key).text)
            for key, heading in GUIDELINE_COLUMNS.items()
        ),
        ("Skills", ", ".join(skill.name for skill in profile.skills)),
    ]
    return CompareColumn(
        code=role.code(level),
        label=f"{profile.title} — {level}",
        page=role.page(level),
        rows=[CompareRow(aspect=aspect, text=text) for aspect, text in rows],
    )


def level_page(
    role: PublishedRole, level: str, context: CatalogView | None, link: Callable[[str], str | None]
) -> str:
    """A role-level's page: the published level page (level.html.j2) with the site around it;
    `link` gives an adjacent role's page, if the site has it."""
    profile = role.profile
    n = profile.levels.index(level)
    beside = [profile.levels[i] for i in (n - 1, n + 1) if 0 <= i < len(profile.levels)]
    return render_template(
        "site_level.html.j2",
        p=profile,
        level=level,
        columns=GUIDELINE_COLUMNS,
        plain=lambda section, text: text,
        c=context,
        rests_on=functools.partial(rests_on, evidence=role.version.evidence),
        link=link,
        r=role,
        v=role.version,
        # The compare page's links to the levels beside, the lower level's code first.
        compare_with=[(other, *map(role.code, sorted((level, other)))) for other in beside],
        root="../",
    )


def _checked(out: Path) -> Path:
    """OUT as an absolute path, once it is known that a site may be written there."""
    # A link to a site: the site it leads to is the one replaced, the link kept.
    out = Path(os.path.realpath(out)) if out.is_symlink() else Path(os.path.abspath(out))
    if out.exists() and not out.is_dir():
        raise BadInput(f"OUT {out}: a file, not a folder")
    if out.is_dir() and any(out.iterdir()) and not _is_site(out):
        raise BadInput(
            f"OUT {out}: holds files jfm did not write (no {MARKER} of a site); name a new or empty folder"
        )
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BadInput(f"OUT {out}: cannot be made ({exc.strerror or exc})") from None
    if not os.access(out.parent, os.W_OK | os.X_OK):
        raise BadInput(f"OUT {out}: {out.parent} is not writable")
    return out


def _is_site(folder: Path) -> bool:
    try:
        marker = SiteMarker.model_validate_json((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValidationError):
        return False
    return marker.generator == GENERATOR


def _replace(staging: Path, out: Path) -> None:
    """Put the built site where OUT is: renames, so that OUT is the old site or the new one."""
    if not out.exists():
        os.rename(staging, out)
        return
    old = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.", suffix=".old"))
    os.rename(out, old / "site")
    try:
        os.rename(staging, out)
    except OSError:
        os.rename(old / "site", out)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _index_search(folder: Path) -> None:
    """Pagefind's index and search UI in `folder`/pagefind/, from the pages' data-pagefind-* marks."""
    try:
        binary = get_executable()
    except FileNotFoundError as exc:
        raise JfmError(f"pagefind is not installed ({exc}): pip install 'pagefind[bin]'") from None
    done = subprocess.run(
        [str(binary), "--site", str(folder), "--silent", "--exclude-selectors", NOT_SEARCHED],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        said = (done.stderr or done.stdout).strip().splitlines() or [f"exit status {done.returncode}"]
        raise JfmError(f"pagefind could not index the site: {said[-1]}")


def _write_pages(folder: Path, roles: list[PublishedRole], catalog: Catalog | None) -> int:
    skills = {role.focus.name: [s.name for s in role.profile.skills] for role in roles if role.focus}
    pages = {role.code(level): role.page(level) for role in roles for level in role.profile.levels}

    def link(code: str) -> str | None:
        """An adjacent role's page, from a page in roles/, when the site has it."""
        return pages[code].removeprefix(f"{ROLES_DIR}/") if code in pages else None

    for sub in (ROLES_DIR, DATA_DIR):
        (folder / sub).mkdir()
    for role in roles:
        profile = role.profile
        nearest = catalog.adjacent_at(role.focus, profile.levels, skills) if catalog and role.focus else {}
        for level in profile.levels:
            context = catalog_view(catalog, profile, level, skills, nearest.get(level)) if catalog else None
            (folder / role.page(level)).write_text(level_page(role, level, context, link), encoding="utf-8")
            column = compare_column(role, level, context)
            (folder / DATA_DIR / f"{column.code}.json").write_text(column.model_dump_json(), encoding="utf-8")
    tree = [
        (
            domain,
            [(family, list(members)) for family, members in itertools.groupby(group, lambda r: r.family)],
        )
        for domain, group in itertools.groupby(roles, lambda r: r.domain)
    ]
    unpublished = len(catalog.foci) - sum(role.focus is not None for role in roles) if catalog else 0
    sides = [
        (role.code(level), f"{role.profile.title} — {level}")
        for role in roles
        for level in role.profile.levels
    ]
    for name, text in {
        "index.html": render_template("site_index.html.j2", tree=tree, unpublished=unpublished, root=""),
        "compare.html": render_template("site_compare.html.j2", sides=sides, root=""),
    }.items():
        (folder / name).write_text(text, encoding="utf-8")
    static = resources.files("jfmfactory.views") / "templates"
    for name in STATIC:
        (folder / name).write_text(static.joinpath(name).read_text(encoding="utf-8"), encoding="utf-8")
    return len(pages)


def build_site(project: Project, out: Path) -> SiteBuilt:
    """Write the site of the project's approved roles to `out`, replacing a site jfm wrote there."""
    out = _checked(out)
    catalog = load_catalog(project.catalog, project.seeds) if project.catalog.is_dir() else None
    roles = published_roles(project, catalog)
    if not roles:
        raise BadInput(
            f"{project.root / PUBLISHED_DIR}: no approved role to publish (approve a drafted profile first)"
        )
    staging = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.", suffix=".building"))
    try:
        os.chmod(staging, 0o777 & ~UMASK)  # a site is for others to read; mkdtemp's folder is private
        pages = _write_pages(staging, roles, catalog)
        _index_search(staging)
        marker = SiteMarker(generator=GENERATOR, built_at=now(), roles=len(roles), pages=pages)
        (staging / MARKER).write_text(marker.model_dump_json(indent=2) + "\n", encoding="utf-8")
        _replace(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return SiteBuilt(folder=out, roles=len(roles), pages=pages)
