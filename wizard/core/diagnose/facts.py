"""What a symptom's checks share: the inputs, the result type, replayed requests.

A :class:`Check` is one of the guide's diagnosis steps (or one of its "possible
causes"), run against what was read: ``found`` means the cause is present,
``not_found`` that it is not, ``unknown`` that the data to decide is missing,
with the reason. Every check carries its evidence and the fix.

:class:`Facts` holds the snapshot and the values and replays Harbor's requests
against the key policy read from AWS (the same requests
:mod:`wizard.core.policy.scenarios` builds), so each check asks the evaluator
instead of guessing from the policy's text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from wizard.core.diagnose.analysis import Analysis, analyse
from wizard.core.diagnose.explain import Explanation, explain
from wizard.core.policy.scenarios import harbor_session_arn, s3_context
from wizard.core.policy.simulate import Evaluator, PolicyError, Request, Result
from wizard.core.regions import s3_via_service
from wizard.core.snapshot import AccountSnapshot, Bucket, KeyInfo, Read, Unknown
from wizard.core.values import Values

Status = Literal["found", "not_found", "unknown"]

KMS_ALL_IAM: Mapping[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}],
}
"""The broadest IAM policy the role could have: direct use must fail even then."""


@dataclass(frozen=True)
class ObjectEncryption:
    """How one S3 object is encrypted (HeadObject)."""

    bucket: str
    key: str
    algorithm: str | None
    """ServerSideEncryption: aws:kms, aws:kms:dsse, AES256, or None."""
    kms_key_id: str | None
    """SSEKMSKeyId: the key ARN S3 used for this object."""
    bucket_key_enabled: bool


@dataclass(frozen=True)
class Check:
    """One diagnosis step's outcome."""

    id: str
    title: str
    status: Status
    evidence: str
    remediation: str = ""
    apply_change: str | None = None
    weight: int = 0
    """How likely this cause is when found: orders the report."""
    benign: bool = False
    """Found, but nothing is broken (the first rotation is simply not due)."""


@dataclass(frozen=True)
class Replay:
    """One of Harbor's requests replayed against the key policy."""

    request: Request
    result: Result
    explanation: Explanation
    analysis: Analysis


@dataclass
class Facts:
    """The inputs of every check of one diagnosis, and memoised replays."""

    snapshot: AccountSnapshot
    values: Values
    now: datetime
    object_encryption: Read[ObjectEncryption] | None = None
    _replays: dict[tuple[str, str, str, bool], Replay | Unknown] = field(
        default_factory=dict
    )

    @property
    def key_arn(self) -> str:
        """The key's ARN as read, else as the values build it."""
        key = self.snapshot.key
        return key.arn if isinstance(key, KeyInfo) else self.values.key_arn

    @property
    def bucket(self) -> Bucket | Unknown:
        """The bucket as read."""
        return self.snapshot.bucket

    def bucket_keys(self) -> tuple[bool, str]:
        """Whether the bucket uses S3 Bucket Keys, and where that comes from."""
        bucket = self.snapshot.bucket
        encryption = bucket.encryption if isinstance(bucket, Bucket) else None
        if encryption is not None and not isinstance(encryption, Unknown):
            on = encryption.bucket_key_enabled
            return on, f"the bucket's default encryption (BucketKeyEnabled={on})"
        on = self.values.bucket_key_enabled
        return on, f"the values file (harbor.bucket_key_enabled = {str(on).lower()})"

    def bucket_region(self) -> str:
        """The bucket's region as read, else the configured region."""
        bucket = self.snapshot.bucket
        if isinstance(bucket, Bucket) and isinstance(bucket.region, str):
            return bucket.region
        return self.values.region or self.snapshot.region

    def missing(self) -> Unknown | None:
        """Why Harbor's requests cannot be replayed, or None when they can."""
        policy = self.snapshot.key_policy
        if isinstance(policy, Unknown):
            return policy
        absent = [
            key
            for key, value in (
                ("harbor.role_arn", self.values.harbor_role_arn),
                ("harbor.bucket", self.values.bucket),
            )
            if not value
        ]
        if absent:
            return Unknown(
                "not_configured",
                f"Not configured: {', '.join(absent)} is not set in the values file.",
            )
        return None

    def object_arn(self) -> str:
        """An object of Harbor's bucket, as S3 names it in the context."""
        return f"{self.values.bucket_arn}/docker/registry/v2/blobs/sha256/00/data"

    def through_s3(self, action: str, form: str = "current") -> Replay | Unknown:
        """Harbor's ``action`` as S3 makes it, with the context form S3 sends.

        Args:
            action: ``kms:GenerateDataKey`` or ``kms:Decrypt``.
            form: ``current`` (what the bucket's Bucket Keys setting makes S3
                send), ``object`` (an object written before Bucket Keys).
        """
        bucket_keys, _ = self.bucket_keys()
        arn = self.values.bucket_arn if bucket_keys else self.object_arn()
        if form == "object":
            arn = self.object_arn()
        via = s3_context(self.values, arn, via=s3_via_service(self.bucket_region()))
        return self._replay(action, via, ("s3", form, action, False))

    def direct(self, action: str, broad_iam: bool) -> Replay | Unknown:
        """Harbor's role calling KMS itself, optionally with ``kms:*`` in IAM."""
        context = {"aws:ViaAWSService": "false"}
        return self._replay(action, context, ("direct", "", action, broad_iam))

    def _replay(
        self,
        action: str,
        context: Mapping[str, Any],
        memo: tuple[str, str, str, bool],
    ) -> Replay | Unknown:
        if memo in self._replays:
            return self._replays[memo]
        missing = self.missing()
        policy = self.snapshot.key_policy
        if missing is not None or isinstance(policy, Unknown):
            return missing or Unknown("error", "The key policy was not read.")
        iam = (KMS_ALL_IAM,) if memo[3] else ()
        request = Request(
            harbor_session_arn(self.values), action, self.key_arn, context, iam, True
        )
        try:
            result = Evaluator(policy).evaluate(request)
        except PolicyError as error:
            replay: Replay | Unknown = Unknown(
                "error", f"The key policy cannot be evaluated: {error}"
            )
        else:
            explanation = explain(policy, request, result)
            replay = Replay(request, result, explanation, analyse(policy, request))
        self._replays[memo] = replay
        return replay


def unknown_check(check_id: str, title: str, why: Unknown | str) -> Check:
    """A check that could not be decided, naming what was missing."""
    reason = why.reason if isinstance(why, Unknown) else why
    if isinstance(why, Unknown) and why.permission and why.permission not in reason:
        reason += f" (needs {why.permission})"
    return Check(check_id, title, "unknown", reason)
