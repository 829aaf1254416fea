"""Only what pyproject.toml cannot say: resources/ is installed as the package data
``hpo_desktop.resources`` (found at run time through importlib.resources)."""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["hpo_desktop", "hpo_desktop.*"]), "hpo_desktop.resources"],
    package_dir={"hpo_desktop.resources": "resources"},
)
