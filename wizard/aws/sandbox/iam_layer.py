"""IAM in the sandbox: the shape of ``SimulatePrincipalPolicy``, nothing more.

moto 5.2 does not implement it. The layer checks that the principal exists and
answers ``implicitDeny`` for every action and resource: it evaluates no policy.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

from wizard.aws.sandbox.moto_access import MotoAccess
from wizard.aws.sandbox.protocols import _Call, _members, _Refused, _Response, _xml_ok


class IamLayer(MotoAccess):
    """Answers IAM ``SimulatePrincipalPolicy`` (the shape only)."""

    # IAM SimulatePrincipalPolicy: the shape only (correction 11: the simulator
    # ignores KMS key policies, and the tool never trusts it for them).
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
            "<EvalDecision>implicitDeny</EvalDecision>"
            "<MatchedStatements/><MissingContextValues/></member>"
            for action in _members(call.params, "ActionNames")
            for resource in resources
        )
        result = f"<IsTruncated>false</IsTruncated><EvaluationResults>{members}"
        result += "</EvaluationResults>"
        namespace = "https://iam.amazonaws.com/doc/2010-05-08/"
        return _xml_ok(call, "SimulatePrincipalPolicy", result, namespace)
