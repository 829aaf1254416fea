"""Installed like a real application: a wheel carries its resources, and the app needs no network.

The wheel test builds the wheel, installs it into a fresh virtual environment (its dependencies
borrowed from the test environment through a .pth file, so nothing is downloaded), and runs
``hpo-desktop --version`` and a tiny headless study from a folder outside the checkout.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

from hpo_desktop import __version__

ROOT = Path(__file__).resolve().parents[1]

TINY = """
[study]
name = "wheel"
metric = "val_accuracy"
direction = "maximize"
trials = 2
seed = 0

[strategy]
kind = "random"

[data]
dataset = "iris"

[model]
epochs = 2

[space]
learning_rate = { type = "float", low = 1e-3, high = 1e-1, log = true }
"""


@pytest.mark.slow
def test_the_wheel_installs_into_a_fresh_environment_and_runs_a_study(tmp_path):
    pytest.importorskip("torch")
    dist = tmp_path / "dist"
    build = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(dist),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert build.returncode == 0, build.stderr[-3000:]
    (wheel,) = dist.glob("hpo_desktop-*.whl")

    env_dir = tmp_path / "env"
    venv.create(env_dir, with_pip=False)
    py = env_dir / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")
    install = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(py), "install", "--no-deps", "-q", str(wheel)],
        capture_output=True,
        text=True,
    )
    assert install.returncode == 0, install.stderr[-3000:]
    site = subprocess.run(
        [str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    # The dependencies (torch, numpy, ...) from the test environment; not its editable hpo_desktop
    # (editable installs live in .pth files, which a plain path entry does not run).
    (Path(site) / "borrowed_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")

    exe = env_dir / ("Scripts/hpo-desktop.exe" if sys.platform == "win32" else "bin/hpo-desktop")
    work = tmp_path / "elsewhere"
    work.mkdir()
    version = subprocess.run([str(exe), "--version"], capture_output=True, text=True, cwd=work)
    assert version.returncode == 0 and __version__ in version.stdout

    where = subprocess.run(
        [
            str(py),
            "-c",
            "import hpo_desktop, hpo_desktop.app as a; print(hpo_desktop.__file__); "
            "print(a.example_path()); print((a.RESOURCES / 'icons' / 'start.svg').is_file())",
        ],
        capture_output=True,
        text=True,
        cwd=work,
    )
    module, example, icon = where.stdout.split("\n")[:3]
    assert Path(module).is_relative_to(env_dir), module  # the wheel's copy, not the checkout
    assert Path(example).is_relative_to(env_dir) and Path(example).is_file()
    assert icon == "True"

    spec = work / "tiny.toml"
    spec.write_text(TINY)
    run = subprocess.run([str(exe), "run", str(spec), "--quiet"], capture_output=True, text=True, cwd=work)
    assert run.returncode == 0, run.stderr[-3000:]
    assert (work / "tiny.db").is_file() and "Best trial" in run.stdout


def test_a_study_runs_with_the_network_disabled(tmp_path, monkeypatch):
    """Nothing at run time needs the network: every socket the process tries to open fails."""
    pytest.importorskip("torch")
    from hpo_desktop import cli

    attempts: list[tuple] = []

    class NoNetwork(socket.socket):
        def __init__(self, *args, **kwargs):
            attempts.append(args)
            raise OSError("network disabled for this test")

    def no_connection(*args, **kwargs):
        attempts.append(args)
        raise OSError("network disabled for this test")

    monkeypatch.setattr(socket, "socket", NoNetwork)
    monkeypatch.setattr(socket, "create_connection", no_connection)
    monkeypatch.setattr(socket, "getaddrinfo", no_connection)
    spec = tmp_path / "offline.toml"
    spec.write_text(TINY.replace('"iris"', '"digits"'))
    import io

    out, err = io.StringIO(), io.StringIO()
    assert cli.main(["run", str(spec), "--quiet"], out=out, err=err) == 0, err.getvalue()
    assert (
        cli.main(["report", str(tmp_path / "offline.db"), "-o", str(tmp_path / "report")], out=out, err=err)
        == 0
    )
    assert not attempts, attempts


# --------------------------------------------------------------------------- Linux desktop files

LINUX = ROOT / "packaging" / "linux"
APP_ID = "org.hpodesktop.HPODesktop"


def _desktop_entry() -> dict[str, str]:
    lines = (LINUX / f"{APP_ID}.desktop").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "[Desktop Entry]"
    return dict(line.split("=", 1) for line in lines[1:] if line and not line.startswith("#"))


def test_the_desktop_entry_launches_the_app_on_a_file_and_names_our_mime_type():
    entry = _desktop_entry()
    assert entry["Type"] == "Application" and entry["Exec"] == "hpo-desktop %f"
    assert entry["Icon"] == APP_ID
    import xml.etree.ElementTree as ET

    ns = {"m": "http://www.freedesktop.org/standards/shared-mime-info"}
    mime = ET.parse(LINUX / f"{APP_ID}.mime.xml").getroot().find("m:mime-type", ns)
    assert entry["MimeType"] == mime.get("type") + ";"
    meta = ET.parse(LINUX / f"{APP_ID}.metainfo.xml").getroot()
    assert meta.findtext("id") == APP_ID
    assert meta.find("launchable").text == f"{APP_ID}.desktop"
    assert meta.find("provides/mediatype").text == mime.get("type")
    assert meta.find("releases/release").get("version") == __version__
    for size in (16, 24, 32, 48, 64, 128, 256):
        assert (ROOT / "resources" / "icons" / f"hpo-desktop-{size}.png").is_file()
    assert (ROOT / "resources" / "hpo-desktop.svg").is_file()


def test_the_mime_magic_matches_a_real_study_file(tmp_path):
    """The MIME type recognises study files by content: SQLite's header + our application id."""
    from hpo_desktop.core.storage import StudyStore

    with StudyStore(tmp_path / "any-name.sqlite") as store:
        store.create_study(
            "s",
            metric="m",
            direction="minimize",
            space={"x": {"type": "float", "low": 0, "high": 1}},
            strategy={"kind": "random"},
        )
    head = (tmp_path / "any-name.sqlite").read_bytes()[:72]
    text = (LINUX / f"{APP_ID}.mime.xml").read_text(encoding="utf-8")
    assert 'value="SQLite format 3" offset="0"' in text and head.startswith(b"SQLite format 3")
    assert 'type="big32" value="0x48504F44" offset="68"' in text and head[68:72] == bytes.fromhex("48504F44")


@pytest.mark.parametrize(
    ("tool", "args", "name"),
    [
        ("desktop-file-validate", [], f"{APP_ID}.desktop"),
        ("appstreamcli", ["validate", "--no-net"], f"{APP_ID}.metainfo.xml"),
    ],
)
def test_the_freedesktop_validators_accept_our_files(tool, args, name):
    import shutil

    if shutil.which(tool) is None:
        pytest.skip(f"{tool} is not installed (apt install desktop-file-utils appstream)")
    done = subprocess.run([tool, *args, str(LINUX / name)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_install_script_puts_every_file_in_place_and_removes_it_again(tmp_path):
    import os
    import shutil

    if shutil.which("bash") is None or sys.platform == "win32":
        pytest.skip("needs bash")
    env = {**os.environ, "PREFIX": str(tmp_path)}
    subprocess.run(["bash", str(LINUX / "install.sh")], env=env, check=True, capture_output=True)
    share = tmp_path / "share"
    assert (share / "applications" / f"{APP_ID}.desktop").is_file()
    assert (share / "mime" / "packages" / f"{APP_ID}.xml").is_file()
    assert (share / "icons" / "hicolor" / "48x48" / "apps" / f"{APP_ID}.png").is_file()
    subprocess.run(
        ["bash", str(LINUX / "install.sh"), "--uninstall"], env=env, check=True, capture_output=True
    )
    assert not (share / "applications" / f"{APP_ID}.desktop").exists()
