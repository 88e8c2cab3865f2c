"""Errors the user sees, each with a title and the exit code of the CLI."""

from __future__ import annotations


class WizardError(Exception):
    """An error to show the user as one clear message; never a traceback."""

    title = "Error"
    exit_code = 2

    def __init__(self, message: str, title: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if title is not None:
            self.title = title


class ConfigError(WizardError):
    """The config file cannot be read, parsed or written."""

    title = "Config file"


class InputError(WizardError):
    """A file or argument given on the command line is unusable."""

    title = "Input"
