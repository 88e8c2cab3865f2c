"""Where the tool's data folders (``templates/``, ``checklists/``) are found.

An installed wheel carries them as ``wizard/_data/<name>`` (pyproject's
``force-include``); a source checkout has them at the repository's top level.
Every reader goes through :func:`data_dir`, so a folder missing from the wheel
fails here with one clear message instead of deep inside jinja2 or tomllib.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from wizard.core.errors import WizardError


def data_dir(name: str) -> Path:
    """The folder of package data called ``name`` (``templates``, ``checklists``).

    Args:
        name: the folder's name at the repository's top level.

    Returns:
        An existing directory: the wheel's copy first, else the checkout's.

    Raises:
        WizardError: neither location holds the folder (a broken install).
    """
    # importlib.resources gives the package's own folder whether it was
    # installed from a wheel or imported from a checkout.
    package = Path(str(resources.files("wizard")))
    for candidate in (package / "_data" / name, package.parent / name):
        if candidate.is_dir():
            return candidate
    raise WizardError(
        f"The tool's {name}/ folder is missing (looked in {package / '_data'} and "
        f"{package.parent}); reinstall harbor-kms-wizard.",
        title="Package data",
    )
