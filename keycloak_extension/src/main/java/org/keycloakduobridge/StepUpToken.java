package org.keycloakduobridge;

import org.keycloak.TokenCategory;
import org.keycloak.representations.JsonWebToken;

/**
 * The request token sent to the bridge. Category ACCESS makes Keycloak sign it with the
 * realm's active asymmetric key (RS256 by default), never with an HMAC secret.
 */
public final class StepUpToken extends JsonWebToken {

    static final String TYPE = "kdb-step-up-request";
    private static final long serialVersionUID = 1L;

    @Override
    public TokenCategory getCategory() {
        return TokenCategory.ACCESS;
    }
}
