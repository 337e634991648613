"""The router's identity settings: the strangler.yaml keys, and the secret that signs identities, which
the router refuses to run without in production (STRANGLER_ENV, production by default)."""

import pytest

from router.app import RouterApp
from router.config import ConfigError, RouterSettings, identity_secret, load_config, parse_config, router_environment
from router.identity import DEV_IDENTITY_SECRET
from router.store import ControlStore

SHIPPED = "strangler.yaml"
MINIMAL = {"version": 1, "upstreams": {"legacy": {"url": "http://127.0.0.1:8001"}}}


def config_with(**router):
    return parse_config({**MINIMAL, "router": router}, source="strangler.yaml")


def test_the_defaults_and_the_shipped_file_agree():
    shipped = load_config(SHIPPED, environ={}).router
    default = RouterSettings()

    assert (default.identity_introspect_path, default.identity_cache_seconds, default.identity_secret_env) == \
        ("/api/auth/introspect/", 5.0, "STRANGLER_IDENTITY_SECRET")
    assert (shipped.identity_introspect_path, shipped.identity_cache_seconds, shipped.identity_secret_env) == \
        (default.identity_introspect_path, default.identity_cache_seconds, default.identity_secret_env)


def test_the_keys_are_read():
    settings = config_with(identity_introspect_path="/internal/whoami", identity_cache_seconds=0,
                           identity_secret_env="MY_IDENTITY_KEY").router

    assert (settings.identity_introspect_path, settings.identity_cache_seconds, settings.identity_secret_env) == \
        ("/internal/whoami", 0.0, "MY_IDENTITY_KEY")


@pytest.mark.parametrize(("key", "value", "expected"), [
    ("identity_introspect_path", "api/auth/introspect/", "an absolute URL path"),
    ("identity_introspect_path", "/api/auth/introspect/?x=1", "an absolute URL path"),
    ("identity_introspect_path", "/api/a b/", "an absolute URL path"),
    ("identity_introspect_path", 5, "an absolute URL path"),
    ("identity_cache_seconds", -1, "a number of seconds, 0 or more"),
    ("identity_cache_seconds", "5", "a number of seconds, 0 or more"),
    ("identity_cache_seconds", True, "a number of seconds, 0 or more"),
    ("identity_secret_env", "NOT A NAME", "an environment variable name"),
])
def test_a_bad_value_names_the_key(key, value, expected):
    with pytest.raises(ConfigError) as caught:
        config_with(**{key: value})

    assert caught.value.key == f"router.{key}"
    assert expected in str(caught.value) and str(caught.value).startswith("strangler.yaml: router.")


def test_a_misspelt_key_is_pointed_at():
    with pytest.raises(ConfigError, match="did you mean 'identity_cache_seconds'"):
        config_with(identity_cache_second=5)


# -- the secret and the environment ------------------------------------------------------------------

def test_the_secret_comes_from_the_variable_the_config_names():
    config = config_with(identity_secret_env="MY_IDENTITY_KEY")

    assert identity_secret(config, {"MY_IDENTITY_KEY": "s3cret"}) == b"s3cret"
    assert identity_secret(config, {"MY_IDENTITY_KEY": "s3cret", "STRANGLER_ENV": "development"}) == b"s3cret"


@pytest.mark.parametrize("environment", ["development", "test"])
def test_development_and_test_fall_back_to_the_development_secret(environment):
    assert identity_secret(config_with(), {"STRANGLER_ENV": environment}) == DEV_IDENTITY_SECRET.encode()
    assert identity_secret(config_with(), {"STRANGLER_ENV": environment, "STRANGLER_IDENTITY_SECRET": ""}) == \
        DEV_IDENTITY_SECRET.encode()


@pytest.mark.parametrize(("environ", "problem"), [
    ({}, "not set in the production environment (STRANGLER_ENV=unset, so production)"),
    ({"STRANGLER_ENV": "production"}, "not set in the production environment (STRANGLER_ENV=production)"),
    ({"STRANGLER_ENV": ""}, "not set in the production environment"),
    ({"STRANGLER_IDENTITY_SECRET": DEV_IDENTITY_SECRET}, "the development default in the production environment"),
])
def test_production_refuses_a_missing_or_development_secret(environ, problem):
    with pytest.raises(ConfigError) as caught:
        identity_secret(config_with(), environ)

    assert caught.value.key == "env STRANGLER_IDENTITY_SECRET"
    assert problem in str(caught.value)
    assert "STRANGLER_ENV=development for a local run" in str(caught.value)


def test_an_unknown_environment_is_refused_naming_the_variable():
    with pytest.raises(ConfigError) as caught:
        router_environment({"STRANGLER_ENV": "staging"})

    assert caught.value.key == "env STRANGLER_ENV"
    assert "one of development, test, production" in str(caught.value) and "'staging'" in str(caught.value)


def test_the_router_app_does_not_build_in_production_without_a_secret(tmp_path):
    config = load_config(SHIPPED, environ={})
    store = ControlStore(f"sqlite:///{tmp_path / 'control.sqlite3'}")

    with pytest.raises(ConfigError, match="STRANGLER_IDENTITY_SECRET"):
        RouterApp(config, store, environ={})
    app = RouterApp(config, store, environ={"STRANGLER_IDENTITY_SECRET": "real-secret"})
    assert app.identity.secret == b"real-secret"
    assert app.identity.path == "/api/auth/introspect/" and app.identity.ttl == 5.0
