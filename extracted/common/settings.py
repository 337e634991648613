"""Settings of an extracted service, read from the environment once, in the app factory.

Each service subclasses `ServiceSettings` and names its prefix and database file:

    class InventorySettings(ServiceSettings):
        model_config = SettingsConfigDict(env_prefix="INVENTORY_")
        service_name: ClassVar[str] = "inventory"

which reads INVENTORY_ENVIRONMENT, INVENTORY_DATABASE_URL and INVENTORY_IDENTITY_NONCE_CACHE_SIZE. The
secrets shared with the router keep their own names whatever the prefix: STRANGLER_SHADOW_SECRET
(rollback markers) and STRANGLER_IDENTITY_SECRET (the identity header). Their development defaults are
refused outside development and test, at construction, so a production service cannot start with a
published secret.
"""

from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from extracted.common.nonces import DEFAULT_MAX_ENTRIES as DEFAULT_NONCE_CACHE_SIZE

ROOT = Path(__file__).resolve().parents[2]
DEV_SHADOW_SECRET = "strangler-dev-shadow-secret-not-for-production"
DEV_IDENTITY_SECRET = "strangler-dev-identity-secret-not-for-production"


class ServiceSettings(BaseSettings):
    """Environment, database URL and the secrets shared with the router."""

    # hide_input_in_errors: a settings error must not print the (partly) secret input it was given.
    model_config = SettingsConfigDict(env_prefix="SERVICE_", extra="ignore", validate_by_name=True,
                                      validate_by_alias=True, hide_input_in_errors=True)
    service_name: ClassVar[str] = "service"  # names the default SQLite file, var/<service_name>.sqlite3

    environment: Literal["development", "test", "production"] = "production"
    database_url: str
    shadow_secret: SecretStr = Field(DEV_SHADOW_SECRET, min_length=1, validation_alias="STRANGLER_SHADOW_SECRET")
    identity_secret: SecretStr = Field(DEV_IDENTITY_SECRET, min_length=1,
                                       validation_alias="STRANGLER_IDENTITY_SECRET")
    # How many identity-header nonces this process remembers to refuse a replay (extracted.common.nonces).
    identity_nonce_cache_size: int = Field(DEFAULT_NONCE_CACHE_SIZE, ge=1)
    # Test only (extracted.common.faults): exit right after the N-th committed write; 0 is off.
    fault_crash_after_writes: int = Field(0, ge=0)

    @classmethod
    def default_database_url(cls) -> str:
        return f"sqlite:///{ROOT / 'var' / f'{cls.service_name}.sqlite3'}"

    @model_validator(mode="before")
    @classmethod
    def _database_url_defaults_to_a_file_under_var(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("database_url"):
            data = {**data, "database_url": cls.default_database_url()}
        return data

    @model_validator(mode="after")
    def _fault_injection_only_in_tests(self) -> "ServiceSettings":
        if self.fault_crash_after_writes and self.environment != "test":
            prefix = self.model_config.get("env_prefix", "")
            raise ValueError(f"{prefix}FAULT_CRASH_AFTER_WRITES is a test setting: it needs {prefix}ENVIRONMENT=test, "
                             f"not {self.environment}")
        return self

    @model_validator(mode="after")
    def _refuse_development_secrets_outside_development(self) -> "ServiceSettings":
        if self.environment in ("development", "test"):
            return self
        prefix = self.model_config.get("env_prefix", "")
        for value, default, variable in (
            (self.shadow_secret, DEV_SHADOW_SECRET, "STRANGLER_SHADOW_SECRET"),
            (self.identity_secret, DEV_IDENTITY_SECRET, "STRANGLER_IDENTITY_SECRET"),
        ):
            if value.get_secret_value() == default:
                raise ValueError(
                    f"{variable} is the development default in the {self.environment} environment; "
                    f"set {variable} (or {prefix}ENVIRONMENT=development for a local run)"
                )
        return self

    def shadow_key(self) -> bytes:
        """The shadow secret as the key `ShadowRollbackMiddleware` takes."""
        return self.shadow_secret.get_secret_value().encode()
