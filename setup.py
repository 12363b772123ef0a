"""Package list for setuptools (everything else is in pyproject.toml).

``datasets/`` stays at the top of the repository as the single copy of the
bundled data; the wheel carries it as the package ``planner._datasets`` (its
files are listed under ``[tool.setuptools.package-data]`` in pyproject.toml).
"""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["planner", "planner.*"]), "planner._datasets"],
    package_dir={"planner._datasets": "datasets"},
)
