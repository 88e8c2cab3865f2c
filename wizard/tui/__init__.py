"""The full-screen Textual app: ``harbor-kms`` with no subcommand.

Textual is imported inside :func:`run_app`, so importing this package (as the
command line does to find it) costs nothing for the headless commands.
"""

from __future__ import annotations

from pathlib import Path


def run_app(config_path: Path | None, demo: bool) -> int:
    """Run the wizard until the user quits; returns the exit code.

    Args:
        config_path: The values file to load and save; None for
            ``harbor-kms.toml`` in the current directory. Ignored with
            ``demo``, which keeps its own in a temporary directory.
        demo: Run against the built-in sandbox seeded with the guide's account.

    Returns:
        0 after a normal quit.
    """
    import logging

    from textual.logging import TextualHandler

    from wizard.tui.app import WizardApp

    # Log records go to Textual's devtools console (``textual console``), never
    # to the terminal the app draws on.
    logging.basicConfig(level=logging.WARNING, handlers=[TextualHandler()])
    if config_path is None and not demo:
        from wizard.core.store import DEFAULT_PATH

        config_path = DEFAULT_PATH
    app = WizardApp(config_path, demo=demo)
    result = app.run()
    return result if isinstance(result, int) else app.return_code or 0
