"""TELEPHONY_CONFIG keys the Asterisk provider reads (see docs/asterisk.md)."""

from __future__ import annotations

import re
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kartoteka.callcenter.providers.asterisk.channels import DEFAULT_EXTENSION_PATTERN
from kartoteka.callcenter.providers.base import ProviderError


def _list(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = value.split(",")
    return tuple(str(v).strip() for v in value or () if str(v).strip())


@dataclass(frozen=True)
class AmiConfig:
    host: str = "127.0.0.1"
    port: int = 5038
    username: str = ""
    secret: str = ""
    context: str = "from-internal"  # where Originate sends the operator's leg to dial
    channel: str = "PJSIP/{extension}"  # the operator's phone: Originate and queue Interface
    queues: tuple[str, ...] = ()  # queues an operator joins when no queue is named
    timeout: float = 5.0  # seconds to connect and for each action's Response
    ping: float = 20.0  # seconds between the listener's Pings; 0 = none
    extension_pattern: re.Pattern[str] = field(
        default_factory=lambda: re.compile(DEFAULT_EXTENSION_PATTERN)
    )
    ivr_prefix: str = "IVR_"  # channel variables copied into the call's IVR answers
    recording_url: str = ""  # "{file}" becomes MIXMONITOR_FILENAME's base name
    tls: bool = False  # AMI over TLS (manager.conf tlsenable=yes, port 5039)
    tls_ca: str = ""  # a CA file to trust instead of the system's (a PBX's own certificate)

    @classmethod
    def from_mapping(cls, config: Mapping[str, Any]) -> AmiConfig:
        """Read TELEPHONY_CONFIG; a value it cannot use raises ProviderError naming its key."""
        try:
            return cls._read(config)
        except re.error as exc:
            raise ProviderError(f"ami_extension_pattern: not a regular expression ({exc})") from exc
        except (TypeError, ValueError) as exc:
            raise ProviderError(f"ami_port / ami_timeout / ami_ping: not a number ({exc})") from exc

    def __post_init__(self) -> None:
        try:
            self.channel.format(extension="101")
        except (KeyError, IndexError, ValueError) as exc:
            raise ProviderError(
                f"ami_channel: only {{extension}} may be in braces ({exc})"
            ) from exc
        if "{extension}" not in self.channel:
            raise ProviderError("ami_channel: must contain {extension}, e.g. PJSIP/{extension}")
        try:
            self.recording_url.format(file="x.wav")
        except (KeyError, IndexError, ValueError) as exc:
            raise ProviderError(
                f"ami_recording_url: only {{file}} may be in braces ({exc})"
            ) from exc

    @classmethod
    def _read(cls, config: Mapping[str, Any]) -> AmiConfig:
        return cls(
            host=str(config.get("ami_host") or "127.0.0.1"),
            port=int(config.get("ami_port") or 5038),
            username=str(config.get("ami_user") or ""),
            secret=str(config.get("ami_secret") or ""),
            context=str(config.get("ami_context") or "from-internal"),
            channel=str(config.get("ami_channel") or "PJSIP/{extension}"),
            queues=_list(config.get("ami_queues")),
            timeout=float(config.get("ami_timeout") or 5.0),
            ping=float(config.get("ami_ping", 20.0)),
            extension_pattern=re.compile(
                str(config.get("ami_extension_pattern") or DEFAULT_EXTENSION_PATTERN)
            ),
            ivr_prefix=str(config.get("ami_ivr_prefix") or "IVR_"),
            recording_url=str(config.get("ami_recording_url") or ""),
            tls=bool(config.get("ami_tls")),
            tls_ca=str(config.get("ami_tls_ca") or ""),
        )

    def ssl_context(self) -> ssl.SSLContext | None:
        """TLS with the certificate and host name checked; there is no way to skip the check."""
        if not self.tls:
            return None
        try:
            return ssl.create_default_context(cafile=self.tls_ca or None)
        except (OSError, ssl.SSLError) as exc:
            raise ProviderError(f"ami_tls_ca: cannot read {self.tls_ca} ({exc})") from exc

    def interface(self, extension: str) -> str:
        return self.channel.format(extension=extension)
