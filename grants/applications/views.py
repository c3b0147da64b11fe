"""The applicant's side of an application: sections, check your answers, submit, withdraw."""

from __future__ import annotations

from datetime import date

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import format_currency
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import BooleanField

from grants.applications import operations, storage
from grants.applications.financing import calculate_grant
from grants.applications.forms import (
    AttachmentForm,
    CostLineForm,
    DeclarationsForm,
    FinancingForm,
    LumpSumForm,
    ProjectForm,
)
from grants.applications.models import Application, ApplicationVersion, Attachment, CostLine
from grants.applications.sections import SECTIONS, problems, section_states
from grants.applications.workflow import STATUSES, TransitionError
from grants.core.access import roles_required, signed_in
from grants.core.forms import ActionForm
from grants.core.money import cents
from grants.core.pdf import render_pdf_template
from grants.extensions import db
from grants.organisations.forms import OrganisationForm
from grants.organisations.operations import get_member_organisation_or_404
from grants.programmes.catalogue import (
    ATTACHMENT_KINDS,
    COST_CATEGORIES,
    DECLARATIONS,
    DISTRICTS,
    label,
)
from grants.programmes.models import Call, LumpSumItem

bp = Blueprint("applications", __name__, url_prefix="/applications")

SECTION_ORDER = list(SECTIONS)
READ_ROLES = ("staff", "approver")  # may read submitted applications and their files


@bp.app_template_global()
def applicant_status(status: str) -> str:
    """The plain-language status an applicant sees."""
    return str(STATUSES[status].applicant_label)


@bp.app_template_global()
def cost_category_label(code: str) -> str:
    return label(COST_CATEGORIES, code)


@bp.app_template_global()
def attachment_kind_label(code: str) -> str:
    return label(ATTACHMENT_KINDS, code)


@bp.app_template_global()
def declaration_text(code: str) -> str:
    return label(DECLARATIONS, code)


@bp.app_template_global()
def district_label(code: str) -> str:
    return label(DISTRICTS, code)


def _error_message(error: operations.ApplicationError) -> str:
    messages = {
        "call_closed": _(
            "The deadline of this call has passed; it no longer accepts applications."
        ),
        "not_editable": _("This application has been submitted and cannot be changed now."),
        "category_not_eligible": _("This cost category is not eligible in this programme."),
        "lump_sum_unknown": _("This lump sum does not belong to the programme."),
        "lump_sum_max": _(
            "At most %(max)d units of this lump sum are allowed.",
            max=error.details.get("max_units", 0),
        ),
        "incomplete": _("The application is not complete yet."),
    }
    return messages[error.code]


def _editable_or_redirect(application: Application, section: str):
    """None when the section may be edited, else a redirect to the overview."""
    if section in operations.editable_sections(application):
        return None
    flash(_error_message(operations.ApplicationError("not_editable")), "warning")
    return redirect(url_for("applications.overview", application_id=application.id))


def _after_save(application: Application, section: str):
    """'Save and continue' goes to the next section; 'save draft' back to the task list."""
    flash(_("Your entries have been saved."), "success")
    if request.form.get("action") == "continue":
        editable = operations.editable_sections(application)
        following = [s for s in SECTION_ORDER[SECTION_ORDER.index(section) + 1 :] if s in editable]
        if following:
            return redirect(url_for(f"applications.{following[0]}", application_id=application.id))
        return redirect(url_for("applications.check", application_id=application.id))
    return redirect(url_for("applications.overview", application_id=application.id))


@bp.route("/")
@roles_required("applicant")
def index():
    return render_template(
        "applications/index.html", applications=operations.applications_of(current_user)
    )


@bp.route("/start/<int:call_id>", methods=["POST"])
@roles_required("applicant")
def start(call_id: int):
    call = db.get_or_404(Call, call_id)
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    organisation = get_member_organisation_or_404(
        current_user, request.form.get("organisation_id", type=int) or 0
    )
    try:
        application = operations.create_draft(call, organisation, current_user)
    except operations.ApplicationError as error:
        flash(_error_message(error), "error")
        return redirect(url_for("programmes.call_detail", call_id=call.id))
    db.session.commit()
    flash(
        _("Your application has been started. You can fill it in over several visits."), "success"
    )
    return redirect(url_for("applications.overview", application_id=application.id))


@bp.route("/<int:application_id>")
@roles_required("applicant")
def overview(application_id: int):
    application = operations.get_member_application_or_404(current_user, application_id)
    return render_template(
        "applications/overview.html",
        application=application,
        states=section_states(application),
        change_request=operations.open_change_request(application),
        sections=SECTIONS,
        editable=operations.editable_sections(application),
    )


@bp.route("/<int:application_id>/organisation", methods=["GET", "POST"])
@roles_required("applicant")
def organisation(application_id: int):
    application = operations.get_member_application_or_404(current_user, application_id)
    if (redirect_response := _editable_or_redirect(application, "organisation")) is not None:
        return redirect_response
    form = OrganisationForm(data=_organisation_form_data(application))
    if form.validate_on_submit():
        operations.save_organisation_data(application, form.profile_data(), current_user)
        db.session.commit()
        return _after_save(application, "organisation")
    return render_template(
        "applications/section_organisation.html", application=application, form=form
    )


def _organisation_form_data(application: Application) -> dict:
    data = dict(application.organisation_data or {})
    if data.get("tax_exemption_date"):
        data["tax_exemption_date"] = date.fromisoformat(data["tax_exemption_date"])
    return data


@bp.route("/<int:application_id>/project", methods=["GET", "POST"])
@roles_required("applicant")
def project(application_id: int):
    application = operations.get_member_application_or_404(current_user, application_id)
    if (redirect_response := _editable_or_redirect(application, "project")) is not None:
        return redirect_response
    form = ProjectForm(obj=application)
    if form.validate_on_submit():
        data = {name: field.data for name, field in form._fields.items() if name != "csrf_token"}
        data["district"] = data["district"] or None
        operations.save_project(application, data, current_user)
        db.session.commit()
        return _after_save(application, "project")
    return render_template(
        "applications/section_project.html",
        application=application,
        form=form,
        call=application.call,
    )


@bp.route("/<int:application_id>/costs", methods=["GET", "POST"])
@roles_required("applicant")
def costs(application_id: int):
    application = operations.get_member_application_or_404(current_user, application_id)
    if (redirect_response := _editable_or_redirect(application, "costs")) is not None:
        return redirect_response
    programme = application.call.programme
    line_form = CostLineForm(prefix="line")
    line_form.set_categories(programme.eligible_categories)
    lump_form = LumpSumForm(prefix="lump")
    lump_form.item.choices = [
        (item.id, f"{item.code} {item.label} – {format_currency(item.amount, 'EUR')} / {item.unit}")
        for item in programme.lump_sums
    ]
    status = 200
    if request.method == "POST":
        form = lump_form if request.form.get("kind") == "lump_sum" else line_form
        if form.validate_on_submit():
            try:
                if form is lump_form:
                    item = db.session.get(LumpSumItem, lump_form.item.data)
                    if item is None:
                        abort(404)
                    operations.add_lump_sum(application, item, lump_form.units.data, current_user)
                else:
                    operations.add_cost_line(
                        application,
                        line_form.category.data,
                        line_form.description.data,
                        line_form.quantity.data,
                        line_form.unit_price.data,
                        current_user,
                    )
            except operations.ApplicationError as error:
                form.form_errors.append(_error_message(error))
                status = 400
            else:
                db.session.commit()
                flash(_("The cost line has been added."), "success")
                return redirect(url_for("applications.costs", application_id=application.id))
        else:
            status = 400
    return render_template(
        "applications/section_costs.html",
        application=application,
        line_form=line_form,
        lump_form=lump_form,
        action_form=ActionForm(),
        categories=_lines_by_category(application),
    ), status


def _lines_by_category(application: Application) -> dict[str, list[CostLine]]:
    grouped: dict[str, list[CostLine]] = {}
    for line in application.cost_lines:
        grouped.setdefault(line.category, []).append(line)
    return grouped


@bp.route("/<int:application_id>/costs/preview")
@roles_required("applicant")
def preview_cost_line(application_id: int):
    """The amount of the line being typed (quantity × unit price), for the live total."""
    operations.get_member_application_or_404(current_user, application_id)
    form = CostLineForm(request.args, prefix="line", meta={"csrf": False})
    amounts = [form.quantity, form.unit_price]
    for field in amounts:
        field.validate(form)
    if any(field.errors or field.data is None for field in amounts):
        return "–"
    return format_currency(cents(form.quantity.data * form.unit_price.data), "EUR")


@bp.route("/<int:application_id>/costs/<int:line_id>/delete", methods=["POST"])
@roles_required("applicant")
def delete_cost_line(application_id: int, line_id: int):
    application = operations.get_member_application_or_404(current_user, application_id)
    line = db.session.get(CostLine, line_id)
    if line is None or line.application_id != application.id:
        abort(404)
    if (redirect_response := _editable_or_redirect(application, "costs")) is not None:
        return redirect_response
    if ActionForm().validate_on_submit():
        operations.remove_cost_line(application, line, current_user)
        db.session.commit()
        flash(_("The cost line has been removed."), "success")
    return redirect(url_for("applications.costs", application_id=application.id))


@bp.route("/<int:application_id>/financing", methods=["GET", "POST"])
@roles_required("applicant")
def financing(application_id: int):
    application = operations.get_member_application_or_404(current_user, application_id)
    if (redirect_response := _editable_or_redirect(application, "financing")) is not None:
        return redirect_response
    form = FinancingForm(obj=application) if request.method == "GET" else FinancingForm()
    if form.validate_on_submit():
        operations.save_financing(
            application,
            {
                "own_funds": form.own_funds.data,
                "participant_fees": form.participant_fees.data,
                "requested_grant": form.requested_grant.data,
                "third_party_funds": [entry.data for entry in form.third_party_funds],
            },
            current_user,
        )
        db.session.commit()
        return _after_save(application, "financing")
    return render_template(
        "applications/section_financing.html",
        application=application,
        form=form,
        calculation=calculate_grant(application),
    ), (400 if form.errors else 200)


@bp.route("/<int:application_id>/attachments", methods=["GET", "POST"])
@roles_required("applicant")
def attachments(application_id: int):
    application = operations.get_member_application_or_404(current_user, application_id)
    if (redirect_response := _editable_or_redirect(application, "attachments")) is not None:
        return redirect_response
    form = AttachmentForm()
    status = 200
    if form.validate_on_submit():
        try:
            storage.store_attachment(application, form.kind.data, form.file.data, current_user)
        except storage.UploadError as error:
            form.file.errors = [str(storage.UPLOAD_MESSAGES[error.code])]
            status = 400
        else:
            db.session.commit()
            flash(_("The file has been uploaded."), "success")
            return redirect(url_for("applications.attachments", application_id=application.id))
    elif request.method == "POST":
        status = 400
    return render_template(
        "applications/section_attachments.html",
        application=application,
        form=form,
        action_form=ActionForm(),
    ), status


@bp.route("/<int:application_id>/attachments/<int:attachment_id>/delete", methods=["POST"])
@roles_required("applicant")
def delete_attachment(application_id: int, attachment_id: int):
    application = operations.get_member_application_or_404(current_user, application_id)
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None or attachment.application_id != application.id:
        abort(404)
    if (redirect_response := _editable_or_redirect(application, "attachments")) is not None:
        return redirect_response
    if ActionForm().validate_on_submit():
        storage.delete_attachment(attachment, current_user)
        db.session.commit()
        flash(_("The file has been removed."), "success")
    return redirect(url_for("applications.attachments", application_id=application.id))


def _readable_application_or_404(application_id: int) -> Application:
    """Members read their organisation's applications; staff read submitted ones."""
    if current_user.has_any_role(*READ_ROLES):
        return operations.get_submitted_application_or_404(application_id)
    return operations.get_member_application_or_404(current_user, application_id)


@bp.route("/<int:application_id>/attachments/<int:attachment_id>")
@signed_in
def download_attachment(application_id: int, attachment_id: int):
    application = _readable_application_or_404(application_id)
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None or attachment.application_id != application.id:
        abort(404)
    return send_file(
        storage.attachment_path(attachment),
        mimetype=attachment.content_type,
        as_attachment=True,
        download_name=attachment.filename,
    )


def _declarations_form(application: Application) -> DeclarationsForm:
    codes = application.call.programme.required_declarations

    class Form(DeclarationsForm):
        pass

    for code in codes:
        setattr(Form, f"declaration_{code}", BooleanField(DECLARATIONS[code]))
    answer = application.input_tax_deduction
    data = {
        f"declaration_{code}": bool((application.declarations or {}).get(code)) for code in codes
    }
    data["input_tax_deduction"] = None if answer is None else ("yes" if answer else "no")
    form = Form(data=data) if request.method == "GET" else Form()
    form.codes = codes
    return form


@bp.route("/<int:application_id>/declarations", methods=["GET", "POST"])
@roles_required("applicant")
def declarations(application_id: int):
    application = operations.get_member_application_or_404(current_user, application_id)
    if (redirect_response := _editable_or_redirect(application, "declarations")) is not None:
        return redirect_response
    form = _declarations_form(application)
    if form.validate_on_submit():
        declared = {code: form[f"declaration_{code}"].data for code in form.codes}
        answer = form.input_tax_deduction.data
        operations.save_declarations(
            application, declared, None if not answer else answer == "yes", current_user
        )
        db.session.commit()
        return _after_save(application, "declarations")
    return render_template(
        "applications/section_declarations.html", application=application, form=form
    )


@bp.route("/<int:application_id>/check")
@roles_required("applicant")
def check(application_id: int):
    application = operations.get_member_application_or_404(current_user, application_id)
    calculation = calculate_grant(application)
    return render_template(
        "applications/check.html",
        application=application,
        problems=problems(application, calculation),
        form=ActionForm(),
        sections=SECTIONS,
        editable=operations.editable_sections(application),
        calculation=calculation,
        deadline_passed=application.status == "draft" and not application.call.is_open(),
    )


@bp.route("/<int:application_id>/submit", methods=["POST"])
@roles_required("applicant")
def submit(application_id: int):
    application = operations.get_member_application_or_404(current_user, application_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        operations.submit_application(
            application, current_user, seen_status=request.form.get("seen_status")
        )
    except operations.ApplicationError as error:
        db.session.rollback()
        flash(_error_message(error), "error")
        return redirect(url_for("applications.check", application_id=application.id))
    except TransitionError:
        db.session.rollback()
        flash(_("This application was changed meanwhile. Please check it again."), "error")
        return redirect(url_for("applications.overview", application_id=application.id))
    db.session.commit()
    flash(
        _(
            "Your application has been submitted. Reference number: %(reference)s. "
            "We have sent you a confirmation by e-mail.",
            reference=application.reference,
        ),
        "success",
    )
    return redirect(url_for("applications.overview", application_id=application.id))


@bp.route("/<int:application_id>/withdraw", methods=["GET", "POST"])
@roles_required("applicant")
def withdraw(application_id: int):
    application = operations.get_member_application_or_404(current_user, application_id)
    form = ActionForm()
    if form.validate_on_submit():
        try:
            operations.withdraw_application(
                application, current_user, seen_status=request.form.get("seen_status")
            )
        except TransitionError:
            db.session.rollback()
            flash(_("This application can no longer be withdrawn."), "error")
        else:
            db.session.commit()
            flash(_("The application has been withdrawn."), "success")
        return redirect(url_for("applications.overview", application_id=application.id))
    return render_template("applications/withdraw.html", application=application, form=form)


@bp.route("/<int:application_id>/versions/<int:number>.pdf")
@signed_in
def summary_pdf(application_id: int, number: int):
    application = _readable_application_or_404(application_id)
    version = db.session.scalar(
        db.select(ApplicationVersion).where(
            ApplicationVersion.application_id == application.id, ApplicationVersion.number == number
        )
    )
    if version is None:
        abort(404)
    pdf = render_pdf_template(
        "applications/summary_pdf.html",
        snapshot=version.snapshot,
        version=version,
        organisation_name=application.organisation.name,
    )
    filename = f"{application.reference}-v{version.number}.pdf"
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
