package org.keycloakduobridge;

/**
 * The names a verdict carries, shared with the Python side ({@code keycloak_duo_bridge/verdict.py};
 * {@code tests/test_shared_names.py} compares the two): its results, and the reasons the bridge
 * gives. A deny may also carry a reason from Duo itself, which nothing matches.
 */
final class VerdictNames {
    static final String RESULT_ALLOW = "allow";
    static final String RESULT_SKIP = "skip";
    static final String RESULT_BYPASS = "bypass";
    static final String RESULT_DENY = "deny";
    static final String RESULT_ERROR = "error";
    static final String RESULT_UPSTREAM = "upstream";

    static final String REASON_USER_APPROVED = "user_approved";
    static final String REASON_BYPASS_GROUP = "bypass_group";
    static final String REASON_NOT_ACTIVATED = "not_activated";
    static final String REASON_APP_OFF = "app_off";
    static final String REASON_IDP_OFF = "idp_off";
    static final String REASON_UPSTREAM_MFA = "upstream_mfa";
    static final String REASON_REALM_OFF = "realm_off";
    static final String REASON_DUO_UNAVAILABLE = "duo_unavailable";
    static final String REASON_SETTINGS_UNAVAILABLE = "settings_unavailable";
    static final String REASON_DUO_CONFIG = "duo_config";
    static final String REASON_DUO_PROTOCOL = "duo_protocol";
    static final String REASON_NOT_ENROLLED = "not_enrolled";

    private VerdictNames() {
    }
}
