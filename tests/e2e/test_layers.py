"""The layering check (scripts/check_layers.py) passes on this tree and
catches what it is there to catch."""
import pathlib
import subprocess

REPO = pathlib.Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "check_layers.py"


def check(*args):
    return subprocess.run(["/usr/bin/python3", str(SCRIPT), *map(str, args)],
                          capture_output=True, text=True, timeout=120)


def test_this_tree_has_no_forbidden_include_and_no_cycle():
    r = check("--objects", REPO / "build" / "obj")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "no forbidden include, no cycle" in r.stdout


def make_tree(root, files):
    for name, text in files.items():
        p = root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)


def test_a_forbidden_include_is_named(tmp_path):
    make_tree(tmp_path, {
        "low/README.md": "low/: the bottom. May include: nothing.\n",
        "high/README.md": "high/: the top. May include: low.\n",
        "low/a.c": '#include "high/b.h"\n',
        "high/b.h": "",
    })
    r = check("--root", tmp_path)
    assert r.returncode == 1
    assert "low/a.c: includes high/b.h, but low/README.md allows only: nothing" in r.stdout
    assert "cycle" not in r.stdout


def test_a_cycle_between_folders_and_between_files_is_named(tmp_path):
    make_tree(tmp_path, {
        "x/README.md": "x/: one. May include: y.\n",
        "y/README.md": "y/: two. May include: x.\n",
        "x/a.c": '#include "x/a.h"\n#include "y/b.h"\n',
        "x/a.h": "",
        "y/b.c": '#include "y/b.h"\n#include "x/a.h"\n',
        "y/b.h": "",
    })
    r = check("--root", tmp_path)
    assert r.returncode == 1
    assert "cycle between folders: x <-> y" in r.stdout
    assert "cycle between files: x/a <-> y/b" in r.stdout
