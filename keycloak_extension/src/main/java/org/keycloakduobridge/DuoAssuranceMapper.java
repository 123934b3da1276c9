package org.keycloakduobridge;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.keycloak.models.ClientSessionContext;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.ProtocolMapperModel;
import org.keycloak.models.UserSessionModel;
import org.keycloak.representations.IDToken;

/**
 * Makes Duo count in the standard claims, after Keycloak's own {@code acr} and {@code amr}
 * mappers have run (a higher priority runs later):
 *
 * <ul>
 *   <li>{@code amr} gains the methods of this session's Duo pass, as the bridge derived them
 *       from Duo's factor ({@code mfa} plus {@code otp}, {@code sms}, {@code tel}, ...);
 *   <li>{@code acr}: a token at the realm's Duo level ({@code acr_duo}) without a Duo pass
 *       with a second factor in this session (a bypass group, an unenrolled user Duo let
 *       through, a fail-open) is lowered to {@code acr_base}. In the "enforce" mode, where no
 *       level-of-authentication flow tells Keycloak of Duo, a session's Duo pass raises it to
 *       {@code acr_duo}; in "step-up", Keycloak's own levels decide, per application.
 * </ul>
 *
 * <p>The names come from the realm's resolved record, read verbatim; with no current record,
 * it adds nothing and lowers nothing.
 */
public final class DuoAssuranceMapper extends TokenMapper {

    public static final String PROVIDER_ID = "kdb-assurance-mapper";
    static final String AMR = "amr";
    static final String MFA = "mfa";
    /** After Keycloak's {@code oidc-acr-mapper} and {@code oidc-amr-mapper} (priority 0). */
    private static final int PRIORITY = 100;


    @Override
    public String getId() {
        return PROVIDER_ID;
    }

    @Override
    public String getDisplayType() {
        return "Duo in acr and amr (keycloak-duo-bridge)";
    }

    @Override
    public String getHelpText() {
        return "Adds this session's Duo methods to amr, and sets acr by whether Duo passed.";
    }

    @Override
    public int getPriority() {
        return PRIORITY;
    }

    @Override
    protected void setClaim(IDToken token, ProtocolMapperModel mapping, UserSessionModel userSession,
            KeycloakSession session, ClientSessionContext clientSessionCtx) {
        RealmSettings settings = RealmSettings.of(session, userSession.getRealm());
        List<String> duo = duoMethods(userSession);
        if (!duo.isEmpty()) {
            List<String> amr = new ArrayList<>();
            Object present = token.getOtherClaims().get(AMR);
            if (present instanceof List) {
                for (Object item : (List<?>) present) {
                    amr.add(String.valueOf(item));
                }
            }
            for (String method : duo) {
                if (!amr.contains(method)) {
                    amr.add(method);
                }
            }
            token.getOtherClaims().put(AMR, amr);
        }
        if (!settings.current || settings.acrDuo == null || settings.acrBase == null) {
            return;
        }
        if (!duo.contains(MFA)) {
            if (settings.acrDuo.equals(token.getAcr())) {
                token.setAcr(settings.acrBase);
            }
        } else if (!settings.stepUp || settings.appsRequired.contains(clientId(clientSessionCtx))
                || BrokeredIdentity.brokered(userSession)) {
            // Where the required action runs Duo ("enforce", an application "required" in
            // "step-up", or a brokered session in "step-up"), no level-of-authentication flow
            // tells Keycloak of it, so the level is the session's Duo pass. Elsewhere in
            // "step-up" Keycloak's levels decide.
            token.setAcr(settings.acrDuo);
        }
    }

    private static String clientId(ClientSessionContext context) {
        if (context == null || context.getClientSession() == null
                || context.getClientSession().getClient() == null) {
            return null;
        }
        return context.getClientSession().getClient().getClientId();
    }

    /**
     * The methods of this session's Duo pass; none unless Duo allowed it, or the login's
     * identity provider proved its own MFA to the bridge ({@code upstream}).
     */
    static List<String> duoMethods(UserSessionModel userSession) {
        String methods = userSession.getNote(Attributes.NOTE_AMR);
        String result = userSession.getNote(Attributes.NOTE_RESULT);
        boolean passed = VerdictNames.RESULT_ALLOW.equals(result)
                || VerdictNames.RESULT_UPSTREAM.equals(result);
        if (!passed || methods == null || methods.isBlank()) {
            return List.of();
        }
        return Arrays.asList(methods.trim().split(" +"));
    }
}
