"""Find the cause of a failed request or a reported symptom (``harbor-kms diagnose``).

Pure, like the rest of the core: the command reads AWS through the adapter and
hands the result here.

- :mod:`~wizard.core.diagnose.event` turns a CloudTrail event or the AWS error
  text Harbor logged into the KMS request that was denied.
- :mod:`~wizard.core.diagnose.analysis` says, statement by statement, whether a
  key policy covers that request and which condition failed.
- :mod:`~wizard.core.diagnose.explain` names the deciding statement and
  condition in plain words, with the fix.
- :mod:`~wizard.core.diagnose.symptoms` runs the guide's troubleshooting steps
  for one of its five symptoms against what was read from the account.
"""
