"""Applying the hardening safely: plan, lockout proof, backups, journal, undo.

Everything here is pure (no boto3): ``wizard.aws.apply_exec`` implements the
:class:`~wizard.core.apply.adapter.Adapter` with boto3, and the command line, the
line mode and the TUI drive the same functions.

- :mod:`.plan` (with :mod:`.plan_monitoring`, :mod:`.targets`, :mod:`.requests`,
  :mod:`.requests_monitoring`, :mod:`.documents`) turns an account snapshot and
  the values into changes: what each reads now, writes, why, and how to undo it;
- :mod:`.lockout` proves with the local policy simulator that a new key policy
  keeps the administrators and Harbor working;
- :mod:`.run` applies a plan step by step; :mod:`.backup` keeps what a write
  replaces; :mod:`.journal` records every step as it happens;
- :mod:`.undo` and :mod:`.rollback` turn a journal back into the calls that
  restore the start; :mod:`.render` prints a plan.
"""
