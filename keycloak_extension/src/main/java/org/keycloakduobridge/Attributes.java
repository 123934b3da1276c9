package org.keycloakduobridge;

/**
 * Attribute and note names shared with the Python side ({@code keycloak_duo_bridge/attributes.py}):
 * each constant here is one there, by the same name and value ({@code tests/test_shared_names.py}).
 */
final class Attributes {
    /** The settings resolved by the Python side: the only realm attribute read for policy. */
    static final String RESOLVED = "kdb.resolved";
    /** On a partner realm, {@code kdb.tenant.client.<client realm>}: the link's proof. */
    static final String TENANT_CLIENT_PREFIX = "kdb.tenant.client.";
    /** A realm's or organization's tenant kind; a client organization carries "client". */
    static final String TENANT_KIND = "kdb.tenant.kind";
    static final String USER_ACTIVATED = "kdb.duo.activated";
    static final String PREFIX = "kdb.";

    static final String NOTE_TIME = "kdb.duo.time";
    static final String NOTE_RESULT = "kdb.duo.result";
    static final String NOTE_FACTOR = "kdb.duo.factor";
    static final String NOTE_TXID = "kdb.duo.txid";
    static final String NOTE_REASON = "kdb.duo.reason";
    /** RFC 8176 method references of the last pass, space-separated (empty without a factor). */
    static final String NOTE_AMR = "kdb.duo.amr";
    /** An "upstream" pass: the identity provider whose own MFA counted, and its proof. */
    static final String NOTE_IDP = "kdb.duo.idp";
    static final String NOTE_PROOF = "kdb.duo.proof";
    /** The client organization whose Duo integration the session's last pass used. */
    static final String NOTE_ORGANIZATION = "kdb.duo.org";

    /** Auth-session notes: the pending nonce, and the loop guard once the step-up is done. */
    static final String AUTH_NONCE = "kdb.duo.nonce";
    static final String AUTH_DONE = "kdb.duo.done";
    /**
     * The organization an SSO session's last pass used, copied onto this login when its
     * triggers are evaluated (the SSO session is at hand then, not in the requests after).
     */
    static final String AUTH_ORGANIZATION = "kdb.duo.selected_org";

    private Attributes() {
    }
}
