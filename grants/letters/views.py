"""Letters on the web: public verification, downloads, re-issue, and the letter settings."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from grants.applications.operations import (
    get_member_application_or_404,
    get_submitted_application_or_404,
)
from grants.applications.storage import UPLOAD_MESSAGES, UploadError, stored_path
from grants.core.access import public, roles_required, signed_in
from grants.core.forms import ActionForm
from grants.extensions import db
from grants.letters import operations
from grants.letters.forms import (
    AnnexForm,
    LetterSettingsForm,
    LogoForm,
    ProgrammeLetterForm,
    VerifyFileForm,
)
from grants.letters.models import Letter, LetterSettings, ProgrammeAnnex
from grants.programmes.models import Programme

bp = Blueprint("letters", __name__)

# Staff-side roles that read every issued letter.
READ_ROLES = ("staff", "approver", "finance", "admin")
REISSUE_ROLES = ("approver", "admin")


@bp.route("/verify", methods=["GET", "POST"])
@public
def verify():
    form = VerifyFileForm()
    code = request.args.get("code", "").strip()[:40]
    result = None
    checked = None  # "code" or "file" once something was checked
    if code:
        checked = "code"
        result = operations.verify_code(code)
    elif form.validate_on_submit():
        checked = "file"
        try:
            result = operations.verify_file(
                form.file.data.stream, current_app.config["UPLOAD_MAX_BYTES"]
            )
        except operations.LetterError as error:
            checked = None
            if error.code == "type":
                message = _("Only PDF files can be checked. This file is not a PDF.")
            else:  # "empty" or "too_large", said as for any upload
                message = str(UPLOAD_MESSAGES[error.code])
            form.file.errors.append(message)
    return render_template(
        "letters/verify.html", form=form, code=code, result=result, checked=checked
    )


def _readable_letter_or_404(letter_id: int) -> Letter:
    """Staff-side readers see every letter; applicants only their organisations'; else 404."""
    letter = db.session.get(Letter, letter_id)
    if letter is None:
        abort(404)
    if not current_user.has_any_role(*READ_ROLES):
        get_member_application_or_404(current_user, letter.application_id)
    return letter


@bp.route("/letters/<int:letter_id>.pdf")
@signed_in
def download(letter_id: int):
    letter = _readable_letter_or_404(letter_id)
    return send_file(
        operations.letter_path(letter),
        mimetype="application/pdf",
        as_attachment=True,
        download_name=letter.filename,
        etag=letter.sha256,
        max_age=0,
    )


@bp.route("/letters/applications/<int:application_id>")
@roles_required(*READ_ROLES)
def application_letters(application_id: int):
    application = get_submitted_application_or_404(application_id)
    return render_template(
        "letters/application.html",
        application=application,
        decision=operations.signed_off_decision(application),
        can_reissue=current_user.has_any_role(*REISSUE_ROLES),
        action_form=ActionForm(),
    )


@bp.route("/letters/applications/<int:application_id>/reissue", methods=["POST"])
@roles_required(*REISSUE_ROLES)
def reissue(application_id: int):
    application = get_submitted_application_or_404(application_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        operations.queue_letter(application, current_user)
    except operations.LetterError:
        abort(404)
    db.session.commit()
    flash(_("A new version of the letter is being issued; it appears here shortly."), "success")
    return redirect(url_for("letters.application_letters", application_id=application.id))


# --- administration --------------------------------------------------------------------------


@bp.route("/admin/letters", methods=["GET", "POST"])
@roles_required("admin")
def settings():
    row = db.session.get(LetterSettings, 1)  # None until first saved; the form shows defaults
    form = LetterSettingsForm(obj=row)
    if form.validate_on_submit():
        operations.update_settings(
            {name: getattr(form, name).data for name in operations.DEFAULTS}, current_user
        )
        db.session.commit()
        flash(_("The letter settings have been saved."), "success")
        return redirect(url_for("letters.settings"))
    for name, default in operations.DEFAULTS.items():
        getattr(form, name).description = _("If empty: %(text)s", text=default)
    programmes = db.session.scalars(select(Programme).order_by(Programme.name)).all()
    return render_template(
        "letters/admin_settings.html",
        form=form,
        logo_form=LogoForm(),
        action_form=ActionForm(),
        settings=row,
        defaults=operations.DEFAULTS,
        programmes=programmes,
    )


@bp.route("/admin/letters/logo", methods=["POST"])
@roles_required("admin")
def upload_logo():
    form = LogoForm()
    if form.validate_on_submit():
        try:
            operations.set_logo(form.logo.data, current_user)
        except UploadError as error:
            flash(str(UPLOAD_MESSAGES[error.code]), "error")
        else:
            db.session.commit()
            flash(_("The logo has been saved."), "success")
    else:
        flash(_("Choose a file."), "error")
    return redirect(url_for("letters.settings"))


@bp.route("/admin/letters/logo/delete", methods=["POST"])
@roles_required("admin")
def delete_logo():
    if ActionForm().validate_on_submit():
        operations.remove_logo(current_user)
        db.session.commit()
        flash(_("The logo has been removed."), "success")
    return redirect(url_for("letters.settings"))


@bp.route("/admin/letters/logo")
@roles_required("admin")
def show_logo():
    row = db.session.get(LetterSettings, 1)
    if row is None or not row.logo_stored_name:
        abort(404)
    return send_file(
        stored_path(row.logo_stored_name, operations.LOGO_DIR),
        mimetype=row.logo_content_type,
    )


@bp.route("/admin/letters/programmes/<int:programme_id>", methods=["GET", "POST"])
@roles_required("admin")
def programme(programme_id: int):
    programme = db.get_or_404(Programme, programme_id)
    form = ProgrammeLetterForm(obj=programme.letter_settings, prefix="settings")
    annex_form = AnnexForm(prefix="annex")
    if request.method == "POST" and "settings-csrf_token" in request.form:
        if form.validate_on_submit():
            operations.update_programme_settings(
                programme,
                {
                    "budget_item": form.budget_item.data,
                    "signatory_name": form.signatory_name.data,
                    "signatory_title": form.signatory_title.data,
                },
                current_user,
            )
            db.session.commit()
            flash(_("The programme's letter settings have been saved."), "success")
            return redirect(url_for("letters.programme", programme_id=programme.id))
    elif request.method == "POST" and annex_form.validate_on_submit():
        try:
            operations.add_annex(
                programme, annex_form.title.data, annex_form.file.data, current_user
            )
        except UploadError as error:
            annex_form.file.errors.append(str(UPLOAD_MESSAGES[error.code]))
        except operations.LetterError:
            annex_form.file.errors.append(
                _("The PDF is protected by a password; upload an unprotected copy.")
            )
        else:
            db.session.commit()
            flash(_("The annex has been added."), "success")
            return redirect(url_for("letters.programme", programme_id=programme.id))
    return render_template(
        "letters/admin_programme.html",
        programme=programme,
        form=form,
        annex_form=annex_form,
        action_form=ActionForm(),
    )


def _annex_or_404(programme_id: int, annex_id: int) -> ProgrammeAnnex:
    annex = db.session.get(ProgrammeAnnex, annex_id)
    if annex is None or annex.programme_id != programme_id:
        abort(404)
    return annex


@bp.route("/admin/letters/programmes/<int:programme_id>/annexes/<int:annex_id>")
@roles_required("admin")
def download_annex(programme_id: int, annex_id: int):
    annex = _annex_or_404(programme_id, annex_id)
    return send_file(
        stored_path(annex.stored_name, operations.ANNEX_DIR),
        mimetype="application/pdf",
        as_attachment=True,
        download_name=annex.filename,
    )


@bp.route(
    "/admin/letters/programmes/<int:programme_id>/annexes/<int:annex_id>/delete",
    methods=["POST"],
)
@roles_required("admin")
def delete_annex(programme_id: int, annex_id: int):
    annex = _annex_or_404(programme_id, annex_id)
    if ActionForm().validate_on_submit():
        operations.remove_annex(annex, current_user)
        db.session.commit()
        flash(_("The annex has been removed."), "success")
    return redirect(url_for("letters.programme", programme_id=programme_id))
