"""Maps the top-level prover/, verifier/ and contracts/ folders into the vcp_toolkit package.

pyproject.toml holds all metadata; this file exists only because `packages.find` cannot search
folders that install under another name. Every package below these roots is found, so a new
subpackage cannot be left out of the wheel.
"""

from setuptools import find_packages, setup

MAPPED = {"vcp_toolkit.prover": "prover", "vcp_toolkit.verifier": "verifier", "vcp_toolkit.contracts": "contracts"}


def packages() -> list[str]:
    found = find_packages(include=["vcp_toolkit", "vcp_toolkit.*"])
    for name, folder in MAPPED.items():
        found += [name] + [f"{name}.{sub}" for sub in find_packages(folder)]
    return found


setup(packages=packages(), package_dir=MAPPED)
