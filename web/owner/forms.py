"""The process owner's forms: fields and CSRF only; the pages check what was sent."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import TextAreaField


class PublishForm(FlaskForm):
    """Why a draft is published (required: the audit trail keeps it with the version)."""

    reason = TextAreaField("Why are you publishing this version?")


class UploadForm(FlaskForm):
    """A BPMN or DMN file from another modelling tool, kept as a draft."""

    file = FileField("Diagram file (.bpmn or .dmn)")


class MigrateForm(FlaskForm):
    """Why running cases are moved onto another version (required, audited)."""

    reason = TextAreaField("Why are you moving these cases?")


class ActionForm(FlaskForm):
    """A button that changes something: the CSRF token only."""
