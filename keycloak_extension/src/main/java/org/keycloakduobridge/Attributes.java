package org.keycloakduobridge;

/**
 * Attribute and note names shared with the Python side ({@code keycloak_duo_bridge/attributes.py}).
 * A rename there must be made here too.
 */
final class Attributes {
    static final String TENANT_PARTNER = "kdb.tenant.partner";
    static final String DUO_ENABLED = "kdb.duo.enabled";
    static final String DUO_FAIL_MODE = "kdb.duo.fail_mode";
    static final String DUO_REMEMBER = "kdb.duo.remember";
    static final String BRIDGE_URL = "kdb.bridge.url";
    static final String BRIDGE_JWKS = "kdb.bridge.jwks";
    static final String APP_MODE = "kdb.duo.mode";
    static final String USER_ACTIVATED = "kdb.duo.activated";
    static final String PREFIX = "kdb.";

    static final String NOTE_TIME = "kdb.duo.time";
    static final String NOTE_RESULT = "kdb.duo.result";
    static final String NOTE_FACTOR = "kdb.duo.factor";
    static final String NOTE_TXID = "kdb.duo.txid";
    static final String NOTE_REASON = "kdb.duo.reason";

    /** Auth-session notes: the pending nonce, and the loop guard once the step-up is done. */
    static final String AUTH_NONCE = "kdb.duo.nonce";
    static final String AUTH_DONE = "kdb.duo.done";

    private Attributes() {
    }
}
