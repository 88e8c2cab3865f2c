"""IAM in the sandbox: ``SimulatePrincipalPolicy``, answered as moto authorizes.

moto 5.2 does not implement it. The layer checks that the principal exists and
answers ``allowed`` for every action and resource: moto enforces no IAM
policy, so the sandbox's callers can in fact make every call, and "allowed"
is the true answer there. It evaluates no policy; a test that wants a denial
injects a fault (``AccessDenied`` on the simulator itself) or, for KMS
actions, gives the key a policy that denies (the tool evaluates key policies
itself, correction 11).
"""

from __future__ import annotations

from xml.sax.saxutils import escape

from wizard.aws.sandbox.moto_access import MotoAccess
from wizard.aws.sandbox.protocols import _Call, _members, _Refused, _Response, _xml_ok


class IamLayer(MotoAccess):
    """Answers IAM ``SimulatePrincipalPolicy``: everything is allowed."""

    # IAM SimulatePrincipalPolicy, in the shape AWS documents; every decision
    # is "allowed" because moto enforces no IAM policy (see the module doc).
    # The simulator ignores KMS key policies (correction 11), so the tool
    # combines this answer with its own evaluation of the key policy.
    # https://docs.aws.amazon.com/IAM/latest/APIReference/API_SimulatePrincipalPolicy.html
    # https://docs.aws.amazon.com/IAM/latest/APIReference/API_EvaluationResult.html

    def _simulate(self, call: _Call) -> _Response:
        source = str(call.params.get("PolicySourceArn", ""))
        kind, _, name = source.partition(":iam::")[2].partition(":")[2].partition("/")
        check = {"role": ("GetRole", "RoleName"), "user": ("GetUser", "UserName")}
        if kind in check:
            operation, field = check[kind]
            name = name.rsplit("/", 1)[-1]
            query = {field: name, "Version": "2010-05-08"}
            found = self._ask_as(call, "iam", operation, **query)
            if found.status != 200:
                raise _Refused(found)  # NoSuchEntity, in IAM's own words
        resources = _members(call.params, "ResourceArns") or ["*"]
        members = "".join(
            f"<member><EvalActionName>{escape(action)}</EvalActionName>"
            f"<EvalResourceName>{escape(resource)}</EvalResourceName>"
            "<EvalDecision>allowed</EvalDecision>"
            "<MatchedStatements/><MissingContextValues/></member>"
            for action in _members(call.params, "ActionNames")
            for resource in resources
        )
        result = f"<IsTruncated>false</IsTruncated><EvaluationResults>{members}"
        result += "</EvaluationResults>"
        namespace = "https://iam.amazonaws.com/doc/2010-05-08/"
        return _xml_ok(call, "SimulatePrincipalPolicy", result, namespace)
