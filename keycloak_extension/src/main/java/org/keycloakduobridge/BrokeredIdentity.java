package org.keycloakduobridge;

import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.keycloak.models.FederatedIdentityModel;
import org.keycloak.models.IdentityProviderModel;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.RealmModel;
import org.keycloak.models.UserModel;
import org.keycloak.models.UserSessionModel;
import org.keycloak.sessions.AuthenticationSessionModel;

/**
 * What Keycloak knows about a user's identity-provider links, for the request token: facts
 * only, read with public API. The bridge decides from them (the user's Duo name, and whether
 * the user is brokered); nothing here is a policy.
 *
 * <ul>
 *   <li>{@code idp_links}: each link's IdP alias and the subject the IdP vouched for (written
 *       by Keycloak's broker, never by a mapper, the user or a client), sorted by alias;</li>
 *   <li>{@code local_password}: whether the user has a password of this realm;</li>
 *   <li>{@code idp}: the IdP this login came through, when it did (the note Keycloak's broker
 *       sets on the login), else absent; with {@code idp_provider}, that IdP's type
 *       (Keycloak's provider id), and {@code idp_id_token}, the ID token Keycloak received
 *       from it, when it keeps one; for a SAML IdP, {@code idp_saml_context} and
 *       {@code idp_saml_instant} from the response stored on the link
 *       ({@link SamlAuthnContext}).</li>
 * </ul>
 */
final class BrokeredIdentity {

    /** Keycloak's own user-session note naming the IdP of a brokered login. */
    static final String IDENTITY_PROVIDER_NOTE = "identity_provider";
    /**
     * Keycloak's own user-session note with the ID token an OIDC IdP gave this login, which
     * the broker validated; it sets it when the brokered login finishes, after the IdP's
     * mappers ran (the bridge reads it only for an OIDC IdP).
     */
    static final String FEDERATED_ID_TOKEN_NOTE = "FEDERATED_ID_TOKEN";
    private static final int MAX_ID_TOKEN = 4096;
    private static final String PASSWORD = "password";
    /** Keycloak's SAML identity provider's id: its link keeps the SAML response it stored. */
    private static final String SAML = "saml";

    private BrokeredIdentity() {
    }

    /** The IdP this login came through (Keycloak's own note), or null for a local login. */
    static String loginIdp(AuthenticationSessionModel authSession) {
        return nonEmpty(authSession.getUserSessionNotes().get(IDENTITY_PROVIDER_NOTE));
    }

    /** Whether this SSO session began with a login through an IdP (Keycloak's own note). */
    static boolean brokered(UserSessionModel userSession) {
        return nonEmpty(userSession.getNote(IDENTITY_PROVIDER_NOTE)) != null;
    }

    private static String nonEmpty(String value) {
        return value == null || value.isEmpty() ? null : value;
    }

    static void addClaims(StepUpToken token, KeycloakSession session, RealmModel realm,
            UserModel user, AuthenticationSessionModel authSession) {
        List<Map<String, String>> links = session.users()
                .getFederatedIdentitiesStream(realm, user)
                .sorted(Comparator.comparing(FederatedIdentityModel::getIdentityProvider))
                .map(BrokeredIdentity::link)
                .collect(Collectors.toList());
        token.setOtherClaims("idp_links", links);
        token.setOtherClaims("local_password", user.credentialManager().isConfiguredFor(PASSWORD));
        String idp = loginIdp(authSession);
        if (idp != null) {
            token.setOtherClaims("idp", idp);
            IdentityProviderModel provider = session.identityProviders().getByAlias(idp);
            if (provider != null) {
                token.setOtherClaims("idp_provider", provider.getProviderId());
            }
            FederatedIdentityModel link = session.users().getFederatedIdentity(realm, user, idp);
            SamlAuthnContext saml = link == null || provider == null
                    || !SAML.equals(provider.getProviderId()) ? null : SamlAuthnContext.of(link.getToken());
            if (saml != null) {
                token.setOtherClaims("idp_saml_context", saml.classRefs);
                token.setOtherClaims("idp_saml_instant", saml.authnInstant);
            }
            String idToken = authSession.getUserSessionNotes().get(FEDERATED_ID_TOKEN_NOTE);
            if (idToken != null && !idToken.isEmpty() && idToken.length() <= MAX_ID_TOKEN) {
                token.setOtherClaims("idp_id_token", idToken);
            }
        }
    }

    private static Map<String, String> link(FederatedIdentityModel identity) {
        Map<String, String> out = new LinkedHashMap<>();
        out.put("alias", identity.getIdentityProvider());
        out.put("subject", identity.getUserId());
        return out;
    }
}
