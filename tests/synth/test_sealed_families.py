"""The sealed artefact families stay sealed: no augmentation of the project, and no config,
implements one. Each sealed family declares the functions that implement it in ``synth`` and the
words that name it; the augmentation sources and every YAML config must carry none of them, and
every augmentation class must be declared as imitating a public family."""

import ast
import importlib
from pathlib import Path

import pytest

from i2v_plugin.synth import artifacts, sealed
from i2v_plugin.synth.families import (
    PUBLIC_FAMILIES,
    SEALED_FAMILIES,
    SEALED_FAMILY_NAMES,
    sealed_matches,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
AUGMENTATION_MODULE = REPO_ROOT / "i2v_plugin" / "data" / "augmentations.py"


def augmentation_sources() -> list[Path]:
    """data/augmentations.py and every strong_aug*.py under modeling/."""
    strong = sorted((REPO_ROOT / "i2v_plugin" / "modeling").rglob("strong_aug*.py"))
    return [AUGMENTATION_MODULE, *strong]


def config_files() -> list[Path]:
    return sorted((REPO_ROOT / "configs").rglob("*.yaml"))


def test_the_scanned_files_exist():
    # A scan of nothing would pass vacuously.
    assert AUGMENTATION_MODULE.is_file()
    assert len(augmentation_sources()) >= 2, "the self-training strong view was not found"
    assert len(config_files()) >= 10


def test_family_lists_are_disjoint_and_documented():
    public = {f.name for f in PUBLIC_FAMILIES}
    assert len(public) == len(PUBLIC_FAMILIES) == 7
    assert len(SEALED_FAMILY_NAMES) == len(set(SEALED_FAMILY_NAMES)) >= 4
    assert not public & set(SEALED_FAMILY_NAMES)
    for family in PUBLIC_FAMILIES + SEALED_FAMILIES:
        assert family.description and "\n" not in family.description
        assert family.identifiers
    assert all(not f.augmentations for f in SEALED_FAMILIES)


@pytest.mark.parametrize("family", SEALED_FAMILIES, ids=lambda f: f.name)
def test_sealed_identifiers_are_the_real_implementations(family):
    # The declared names are functions of synth.sealed, and the scanner recognises them there:
    # an augmentation that reused them would be caught.
    source = Path(sealed.__file__).read_text()
    for name in family.identifiers:
        assert callable(getattr(sealed, name)), f"{family.name}: synth.sealed.{name} missing"
        assert (family.name, name) in sealed_matches(source)
    for keyword in family.keywords:
        assert (family.name, keyword) in sealed_matches(f"class Random{keyword.title()}Aug: ...")


@pytest.mark.parametrize("family", PUBLIC_FAMILIES, ids=lambda f: f.name)
def test_public_identifiers_exist(family):
    modules = [artifacts, importlib.import_module("i2v_plugin.data.video")]
    for name in family.identifiers:
        assert any(callable(getattr(m, name, None)) for m in modules), name


@pytest.mark.parametrize(
    ("text", "family"),
    [
        ("class RandomVignette(T.Augmentation):", "vignetting"),
        ("def rolling_shutter(image, readout):", "rolling_shutter"),
        ("INPUT:\n  VIDEO_AUG:\n    HAZE: 0.5\n", "haze"),
        ("x = interlace_fields(a, b)", "interlacing"),
        ("class ChromaticAberrationAug:", "chromatic_aberration"),
    ],
)
def test_the_scanner_finds_an_implementation_in_any_spelling(text, family):
    assert family in {name for name, _ in sealed_matches(text)}


def test_the_scanner_ignores_public_augmentations():
    text = "class RandomGaussianBlur(T.Augmentation):\n    sigma = 1.5  # defocus, motion\n"
    assert sealed_matches(text) == []


@pytest.mark.parametrize("path", augmentation_sources(), ids=lambda p: p.name)
def test_no_augmentation_source_implements_a_sealed_family(path):
    found = sealed_matches(path.read_text())
    assert found == [], f"{path.relative_to(REPO_ROOT)} names sealed families: {found}"


def test_no_config_asks_for_a_sealed_family():
    found = {
        str(p.relative_to(REPO_ROOT)): sealed_matches(p.read_text())
        for p in config_files()
        if sealed_matches(p.read_text())
    }
    assert found == {}


def augmentation_names(path: Path) -> set[str]:
    """Classes of ``path`` derived from an Augmentation, and the Detectron2 ``T.*``
    augmentations it instantiates."""
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            bases = {
                b.attr if isinstance(b, ast.Attribute) else getattr(b, "id", "") for b in node.bases
            }
            if "Augmentation" in bases:
                names.add(node.name)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            value = node.func.value
            if (
                isinstance(value, ast.Name)
                and value.id == "T"
                and node.func.attr.startswith("Random")
            ):
                names.add(node.func.attr)
    return names


def test_every_augmentation_imitates_a_public_family_and_none_a_sealed_one():
    names = augmentation_names(AUGMENTATION_MODULE) - {"RandomApply"}
    assert {"RandomGaussianBlur", "RandomJPEG", "RandomBrightness"} <= names
    declared = {a for f in PUBLIC_FAMILIES for a in f.augmentations}
    unmapped = sorted(names - declared)
    assert unmapped == [], (
        f"augmentations {unmapped} in data/augmentations.py are not listed under a public "
        "family in synth/families.py; a new augmentation must name the family it imitates"
    )
    for name in names:
        assert sealed_matches(name) == [], f"{name} maps onto a sealed family"
