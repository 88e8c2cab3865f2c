"""Step 1, Prerequisites: who you are in AWS, the region, what you may not do.

The identity comes from sts:GetCallerIdentity and the missing permissions from
the reads themselves: every read the later steps need is made once, and the
actions AWS denied are listed. The coming steps' calls, writes included, are
checked with IAM's policy simulator combined with the key policy
(:mod:`wizard.core.permissions_check`), in the same worker as the reads.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import LoadingIndicator, Static

from wizard.tui.messages import AccountReadRequested
from wizard.tui.screens.base import StepPane
from wizard.tui.session import AccountView, Model


class PrerequisitesStep(StepPane):
    """Connection, identity, region and permissions, as read.

    The step is the first screen, so it is one text block rather than a
    widget per line: fewer widgets paint sooner.
    """

    STEP_ID = "prerequisites"

    DEFAULT_CSS = """
    PrerequisitesStep {
        & LoadingIndicator { height: 1; }
    }
    """

    def compose_body(self) -> ComposeResult:
        """A busy line and the report."""
        yield LoadingIndicator(id="prereq-busy")
        with VerticalScroll(id="prereq-body", can_focus=True):
            yield Static("", id="prereq-report")

    def render_model(self, model: Model) -> None:
        """Fill each section; unknowns say why, problems in the error colour."""
        account = model.account
        busy = bool({"sandbox", "snapshot"} & account.busy)
        self.query_one("#prereq-busy").display = busy
        region = model.state.values.region
        sections = (
            ("Connection", connection_text(account), False),
            ("Identity", *identity_text(account, model)),
            (
                "Region",
                region or "No region is set yet: enter it in step 2.",
                not region,
            ),
            ("Reads denied while reading the account", *permissions_text(account)),
            ("Permissions for the coming steps", *step_permissions_text(account)),
        )
        report = Content("\n").join(
            _section(title, text, problem) for title, text, problem in sections
        )
        self.query_one("#prereq-report", Static).update(report)
        self.set_class(any(problem for _, _, problem in sections), "-problem")

    def action_recheck(self) -> None:
        """Read the identity and permissions again."""
        self.post_message(AccountReadRequested())

    def can_run(self, action: str) -> bool | None:
        """Re-check only once connected and not already reading."""
        account = self.model.account if self.model else None
        if account is None or not account.connected:
            return None
        return "snapshot" not in account.busy or None


def _section(title: str, text: str, problem: bool) -> Content:
    """A bold heading and its text, the text in the error colour if a problem."""
    body = Content.styled(text, "$text-error" if problem else "")
    return Content.assemble((title, "bold"), "\n", body, "\n")


def connection_text(account: AccountView) -> str:
    """Where the calls go: the demo sandbox or the SDK's own configuration."""
    if account.demo and not account.connected:
        return "Starting the local AWS sandbox (the first start takes a few seconds)..."
    if account.demo:
        return (
            f"Demo: the local AWS sandbox at {account.endpoint_url}, seeded with "
            "the account the guide leaves behind. Nothing touches real AWS."
        )
    return (
        "AWS, with the credentials boto3 finds (environment, AWS_PROFILE, SSO, "
        "instance or pod role); the tool never stores them."
    )


def identity_text(account: AccountView, model: Model) -> tuple[str, bool]:
    """The caller, or why it is not known, and whether that is a problem."""
    # Imported here: this step is the first screen, and paints before any read.
    from wizard.core.snapshot import CallerIdentity, Unknown

    identity = account.identity
    if identity is None:
        return "Not read yet.", False
    if isinstance(identity, Unknown):
        return f"Cannot tell who you are: {identity.reason}", True
    if not isinstance(identity, CallerIdentity):
        return str(identity), False
    text = f"{identity.arn}\naccount {identity.account}, user id {identity.user_id}"
    wanted = model.state.values.account_id
    if wanted and wanted != identity.account:
        text += (
            f"\nThese credentials are for account {identity.account}, but the "
            f"values name account {wanted}: reads and writes would miss the key."
        )
        return text, True
    return text, False


def permissions_text(account: AccountView) -> tuple[str, bool]:
    """The denied actions, or how many were checked and found allowed."""
    from wizard.core.snapshot import Unknown

    missing = account.missing_permissions
    if missing is None:
        return "Not checked yet: they are checked by reading the account.", False
    if isinstance(account.identity, Unknown):
        return "Cannot be checked until AWS answers (see Identity).", True
    checked = len(account.checked_permissions)
    if not missing:
        return f"None missing: the {checked} actions read were allowed.", False
    listed = "\n".join(f"  {action}" for action in missing)
    return (
        f"{len(missing)} of {checked} actions were denied; the steps that need "
        f"them show 'unknown' until they are granted:\n{listed}",
        True,
    )


def step_permissions_text(account: AccountView) -> tuple[str, bool]:
    """Per coming step: all allowed, or the actions denied or unknown and why."""
    from wizard.core.permissions_check import permission_lines
    from wizard.core.snapshot import Unknown

    steps = account.step_permissions
    if steps is None:
        if isinstance(account.identity, Unknown):
            return "Cannot be checked until AWS answers (see Identity).", True
        return "Not checked yet: they are checked with IAM and the key policy.", False
    problem = any(step.problems for step in steps)
    return "\n".join(permission_lines(steps)), problem
