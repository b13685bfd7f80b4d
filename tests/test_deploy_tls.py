"""The docker compose deployment reaches the app only over HTTPS, through a maintained proxy (Caddy)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

DOCKER = Path(__file__).resolve().parent.parent / "docker"


def test_compose_serves_https_through_caddy_and_publishes_nothing_else():
    compose = yaml.safe_load((DOCKER / "compose.yaml").read_text(encoding="utf-8"))
    services = compose["services"]
    proxy = services["proxy"]
    assert proxy["image"].startswith("caddy:") and "443:443" in proxy["ports"]
    assert "./Caddyfile:/etc/caddy/Caddyfile:ro" in proxy["volumes"]
    published = {name for name, service in services.items() if service.get("ports")}
    assert published == {"proxy"}  # the app, the database and Redis are reachable only inside the network
    for name in ("web", "worker", "init"):
        assert services[name]["environment"]["JXC_HTTPS"] == "1", name  # Secure cookies, HSTS, X-Forwarded-*
    caddyfile = (DOCKER / "Caddyfile").read_text(encoding="utf-8")
    assert re.search(r"^\{\$JXC_DOMAIN:localhost\} \{", caddyfile, re.M)
    assert "reverse_proxy web:5000" in caddyfile
