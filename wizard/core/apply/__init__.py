"""Applying the hardening safely: plan, lockout proof, backups, journal, undo.

Everything here is pure (no boto3): :mod:`wizard.aws.apply_exec` runs the steps a
plan lists, and the command line, line mode and TUI all drive the same functions.

- :mod:`.plan` turns an account snapshot and the values into changes, each with
  what it reads now, what it will write, why, and how to undo it;
- :mod:`.lockout` proves, with the local policy simulator, that a new key policy
  keeps the administrators and Harbor working;
- :mod:`.backup` keeps the state a write replaces, hashed and private;
- :mod:`.journal` records every step as it happens, so an interruption leaves a
  record of exactly what was done;
- :mod:`.undo` turns a journal back into the calls that restore the start.
"""
