"""The grant-management application: create_app wires extensions, Celery and blueprints."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from config import Config, ProdConfig, get_config

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: type[Config] | str | None = None, **overrides) -> Flask:
    """Build the Flask application; no side effects beyond wiring."""
    config_class = config if isinstance(config, type) else get_config(config)
    if issubclass(config_class, ProdConfig):
        config_class.check()

    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder="static",
    )
    app.config.from_object(config_class)
    app.config.update(overrides)
    if (app.config["SQLALCHEMY_DATABASE_URI"] or "").startswith("postgresql"):
        # The app asks short questions. PostgreSQL compiles a query to machine code (JIT)
        # when its cost estimate is high, which for the queue's overdue filter took 30 ms of
        # an 80 ms query; compiling never pays off for queries this short.
        options = app.config["SQLALCHEMY_ENGINE_OPTIONS"]
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
            **options,
            "connect_args": {**options.get("connect_args", {}), "options": "-c jit=off"},
        }

    from grants.extensions import babel, csrf, db, login_manager, mail, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    mail.init_app(app)

    from grants.core.i18n import install_template_translations, select_locale, select_timezone

    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    install_template_translations(app)

    from grants.auth.models import load_user

    login_manager.init_app(app)
    login_manager.user_loader(load_user)
    login_manager.login_view = "auth.login"
    login_manager.login_message_category = "info"

    from grants.core.celery import init_celery
    from grants.core.transactions import install_transaction_hooks

    init_celery(app)
    install_transaction_hooks(app)

    from grants.admin.views import bp as admin_bp
    from grants.applications.views import bp as applications_bp
    from grants.auth.views import bp as auth_bp
    from grants.core.views import bp as core_bp
    from grants.finance.views import bp as finance_bp
    from grants.letters.views import bp as letters_bp
    from grants.notifications.views import bp as notifications_bp
    from grants.organisations.views import bp as organisations_bp
    from grants.pages.views import bp as pages_bp
    from grants.programmes.views import bp as programmes_bp
    from grants.reviews.views import bp as reviews_bp

    blueprints = (
        core_bp,
        pages_bp,
        auth_bp,
        organisations_bp,
        admin_bp,
        programmes_bp,
        applications_bp,
        reviews_bp,
        letters_bp,
        finance_bp,
        notifications_bp,
    )
    for blueprint in blueprints:
        app.register_blueprint(blueprint)

    from grants.core.access import install_access
    from grants.core.errors import install_error_handlers
    from grants.core.web import install_web

    install_access(app)
    install_error_handlers(app)
    install_web(app)

    from grants.cli import register_cli

    register_cli(app)
    return app
