"""Settings: declared once, documented, and read from the environment with clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.settings import Settings, SettingsError, load_settings, variables

README = Path(__file__).resolve().parents[1] / "README.md"
PG = {"DATABASE_URL": "postgresql://shop@db/shop", "SECRET_KEY": "k" * 40}


def test_the_readme_documents_every_setting() -> None:
    readme = README.read_text()
    missing = [name for name in variables() if f"`{name}`" not in readme]
    assert missing == [], "document these in the README's configuration table"


def test_defaults_are_the_declared_ones(tmp_path: Path) -> None:
    loaded = load_settings({"COMMERCE_DATA_DIR": str(tmp_path)})
    declared = Settings()
    computed = {"data_dir", "database_url", "secret_key", "graphiql"}
    for name in Settings.model_fields:
        if name not in computed:
            assert getattr(loaded, name) == getattr(declared, name), name
    assert loaded.database_url == f"sqlite+aiosqlite:///{tmp_path.resolve() / 'commerce.db'}"
    assert len(loaded.secret_key) >= 32
    assert load_settings({"COMMERCE_DATA_DIR": str(tmp_path)}).secret_key == loaded.secret_key


def test_values_are_parsed_from_text(tmp_path: Path) -> None:
    loaded = load_settings(
        {
            **PG,
            "DEBUG": "yes",
            "CACHE_TTL_SECONDS": " 60 ",
            "TRUSTED_PROXIES": "10.0.0.0/8, 192.168.1.7",
            "CORS_ORIGINS": "https://shop.example.com",
            "TAX_RATES": "DE=19.5,US=0",
            "LOG_LEVEL": "warning",
            "MAX_QUERY_COST": "",
        }
    )
    assert loaded.database_url == "postgresql+asyncpg://shop@db/shop"
    assert loaded.debug is True
    assert loaded.cache_ttl_seconds == 60
    assert loaded.trusted_proxies == ("10.0.0.0/8", "192.168.1.7")
    assert loaded.cors_origins == ("https://shop.example.com",)
    assert loaded.tax_rates["DE"] == 1950
    assert loaded.tax_rates["US"] == 0
    assert loaded.log_level == "WARNING"
    assert loaded.max_query_cost == Settings().max_query_cost, "empty means unset"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("SECRET_KEY", "too-short-secret"),
        ("DATABASE_URL", "mysql://admin:hunter2-pw@db/shop"),
        ("REDIS_URL", "http://:hunter2-pw@cache"),
        ("PAYMENT_WEBHOOK_SECRET", "hunter2-pw"),
    ],
)
def test_errors_never_repeat_a_credential(variable: str, value: str) -> None:
    with pytest.raises(SettingsError) as raised:
        load_settings({**PG, variable: value})
    message = str(raised.value)
    assert message.startswith(variable)
    assert "hunter2" not in message
    assert value not in message


def test_graphiql_defaults_to_on_for_the_embedded_demo_only(tmp_path: Path) -> None:
    assert load_settings({"COMMERCE_DATA_DIR": str(tmp_path)}).graphiql is True
    assert load_settings(PG).graphiql is False
    assert load_settings({**PG, "GRAPHIQL": "true"}).graphiql is True
