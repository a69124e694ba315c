"""The account menu's contract pages (〈契約情報の変更〉, manual §0): plan change,
cancellation and contract details. Thin: a form, one call into
``tenants.plans`` or ``tenants.details``, a page."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, abort, render_template
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from .. import clock
from ..auth.proof import Proof
from ..forms import PAGE_EXPIRED
from ..models import Plan, User
from ..tenants import details, plans
from ..tenants.details import Field, Problem
from ..tenants.permissions import Item
from .contract_forms import CancelForm, ContractForm, PlanForm
from .views import requires

bp = Blueprint("account_contract", __name__, url_prefix="/account")


def _date(moment: datetime | None) -> str:
    """A day as the people reading it live it (Japan time)."""
    return clock.japan(moment, "%Y-%m-%d")


# -- plan change (manual §0 ※1) ----------------------------------------------------------


@bp.route("/plan", methods=["GET", "POST"])
@requires(Item.PLAN, reauthenticate=True)
def plan(proof: Proof) -> str | tuple[str, int]:
    """A trial becomes basic: choose, confirm, done; also within the grace days
    after the trial ended, when this is the one page its holder may use."""
    user = proof.user
    tenant = user.tenant
    form = PlanForm()
    if tenant.plan == Plan.BASIC or not form.is_submitted():
        return _plan_page(user, form)
    if not form.validate_on_submit():
        return _plan_page(user, form, str(PAGE_EXPIRED) if form.csrf_token.errors else _("Choose the new plan.")), 400
    if form.stage.data != "confirm":
        return render_template("account/plan_confirm.html", form=form)
    try:
        plans.change_plan(tenant, form.plan.data or "", actor=user)
    except plans.PlanError:
        # Changed meanwhile (another tab, the operator) or past the grace days.
        return _plan_page(user, form, _("The plan could not be changed. Please check the current plan.")), 409
    return render_template("account/plan_done.html")


def _plan_page(user: User, form: PlanForm, error: str | None = None) -> str:
    tenant = user.tenant
    if not form.is_submitted():
        form.plan.data = Plan.BASIC.value
    return render_template(
        "account/plan.html",
        form=form,
        tenant=tenant,
        standing=plans.standing(tenant),
        trial_end=_date(tenant.trial_ends_at),
        grace_end=_date(plans.grace_end(tenant)),
        grace_days=plans.grace_days(),
        error=error,
    )


# -- cancellation (manual §0 ※2: the basic plan's holder only) ----------------------------


@bp.route("/cancel", methods=["GET", "POST"])
@requires(Item.CANCEL, reauthenticate=True)
def cancel(proof: Proof) -> str | tuple[str, int]:
    """The consequences, a checkbox to confirm them, then done. From then on
    every session and token of the contract stops working at its next use."""
    user = proof.user
    tenant = user.tenant
    form = CancelForm()
    error, status = None, 200
    if form.validate_on_submit():
        if form.confirmed.data:
            try:
                plans.cancel(tenant, actor=user)
            except plans.PlanError:
                abort(409)  # cancelled meanwhile; the next page shows the contract is gone
            return render_template("account/cancel_done.html", removed_on=_date(plans.removal_date(tenant)))
        error, status = _("Please confirm that you have read the explanation above."), 400
    elif form.is_submitted():
        error, status = str(PAGE_EXPIRED), 400
    page = render_template(
        "account/cancel.html",
        form=form,
        error=error,
        keep_days=plans.keep_days(),
    )
    return page, status


# -- contract details -------------------------------------------------------------------

PROBLEMS = {
    Problem.EMPTY: _l("Enter this field."),
    Problem.TOO_LONG: _l("This is too long."),
    Problem.CONTROL: _l("This contains characters that cannot be used."),
    Problem.PHONE_CHARACTERS: _l("Enter the phone number with digits and hyphens (for example 03-1234-5678)."),
    Problem.PHONE_LENGTH: _l("A phone number has 10 to 15 digits."),
}


@bp.route("/contract", methods=["GET", "POST"], endpoint="details")
@requires(Item.CONTRACT)
def contract_details(proof: Proof) -> str | tuple[str, int]:
    """The holder keeps the company name, contact person and phone number up to date."""
    user = proof.user
    tenant = user.tenant
    form = ContractForm()
    errors: dict[str, str] = {}
    saved, status = False, 200
    if form.validate_on_submit():
        entered = details.Details.entered(
            form.company_name.data or "", form.contact_name.data or "", form.contact_phone.data or ""
        )
        try:
            details.save(tenant, entered, actor=user)
            saved = True
        except details.DetailsRefused as refused:
            errors = {field.value: str(PROBLEMS[problem]) for field, problem in refused.problems.items()}
            status = 400
    elif form.is_submitted():
        errors, status = {"form": str(PAGE_EXPIRED)}, 400
    if not form.is_submitted() or saved:
        current = details.Details.of(tenant)
        for field in Field:
            getattr(form, field.value).data = getattr(current, field.value)
    return render_template("account/contract.html", form=form, errors=errors, saved=saved), status
