"""The admin API's bodies and answers, as pydantic models: requests are validated against
them, and the OpenAPI document's schemas are generated from them (:mod:`.openapi`)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- request bodies ------------------------------------------------------------------------


class NewPartner(_Body):
    name: str
    display_name: str | None = None
    branding_url: str | None = None


class NewClient(_Body):
    name: str
    partner: str
    display_name: str | None = None
    # make the client's Duo application through the partner's Duo admin link (issue 17)
    duo_provision: bool = False
    #: "realm" (default): a realm of its own; "organization": an organization of the
    #: partner's realm (issue 18)
    mapping: Literal["realm", "organization"] = Field("realm", alias="as")


class CredentialsBody(_Body):
    ikey: str
    skey: str = Field(json_schema_extra={"writeOnly": True})
    api_host: str


class DuoPolicy(_Body):
    user_mode: str | None = None
    fail_mode: str | None = None
    remember: str | None = None
    bypass_groups: list[str] | None = None
    self_deactivate: str | None = None
    self_phones: str | None = None
    duo_username: str | None = None
    brokered_username: str | None = None
    brokered_enrollment: str | None = None


class DuoSwitch(_Body):
    enabled: bool | None
    #: Where Duo runs: "enforce" (every login) or "step-up" (where an app asks for acr mfa);
    #: absent keeps the realm's.
    assurance: Literal["enforce", "step-up"] | None = None


class IdpPolicyBody(_Body):
    """An identity provider's Duo policy; ``off`` needs ``confirm_off``."""

    mode: Literal["duo", "trust-upstream-mfa", "off"]
    amr: list[str] = []
    acr: list[str] = []
    saml_context: list[str] = []
    confirm_off: bool = False


class AppModeBody(_Body):
    mode: Literal["inherit", "required", "off"]


class TenantUpdate(_Body):
    display_name: str | None = None
    branding_url: str | None = None  # partners only
    clear_branding_url: bool = False  # partners only
    partner: str | None = None  # clients only: move to this partner (which the caller manages)


class ActivationBody(_Body):
    activated: bool


class PhoneBody(_Body):
    #: A mobile number in E.164 form, e.g. "+15555550123"
    number: str = Field(max_length=64)


# -- answers ---------------------------------------------------------------------------------


class TenantView(BaseModel):
    """A tenant as the API shows it (:meth:`keycloak_duo_bridge.admin.tenants.Tenant.to_json`)."""

    name: str
    kind: Literal["partner", "client"]
    display_name: str | None = None
    partner: str | None = None  # clients
    branding_url: str | None = None  # partners
    as_: Literal["organization"] | None = Field(None, alias="as")  # a client organization
    # a client created with duo_provision: ikey, api_host, account_id, created, health_check
    duo_provisioned: dict[str, Any] | None = None


class Written(BaseModel):
    """Whether a change was written (False: it was there already)."""

    realm: str
    written: bool


class ErrorAnswer(BaseModel):
    """Every refusal: what went wrong, and for an invalid body, where."""

    error: str
    details: Any = None
