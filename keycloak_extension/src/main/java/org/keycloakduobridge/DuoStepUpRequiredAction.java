package org.keycloakduobridge;

import org.keycloak.authentication.InitiatedActionSupport;
import org.keycloak.authentication.RequiredActionContext;
import org.keycloak.authentication.RequiredActionProvider;
import org.keycloak.models.ClientModel;
import org.keycloak.models.UserModel;
import org.keycloak.models.UserSessionModel;
import org.keycloak.sessions.AuthenticationSessionModel;

/**
 * The {@code duo-step-up} required action: the "enforce" mode, Duo on every login to an
 * application that requires it, SSO-cookie logins included ({@link StepUp} does the step).
 *
 * <p>It holds no policy of its own: it reads the settings the Python side resolved for the
 * realm ({@link RealmSettings}, verbatim): whether Duo is on, the applications it is off for,
 * the remember window, and the fail mode (the only condition under which a {@code bypass}
 * verdict passes). When that record does not match the realm's attributes it fails closed.
 * In the "step-up" mode it runs only for applications whose mode is "required" (the flow's
 * authenticator runs Duo where a level asks); {@code kc_action} still runs it.
 */
public final class DuoStepUpRequiredAction implements RequiredActionProvider {

    /** The client note where Keycloak keeps an OIDC request's {@code max_age}. */
    private static final String MAX_AGE = "max_age";

    @Override
    public InitiatedActionSupport initiatedActionSupport() {
        return InitiatedActionSupport.SUPPORTED;
    }

    @Override
    public void evaluateTriggers(RequiredActionContext context) {
        AuthenticationSessionModel authSession = context.getAuthenticationSession();
        if ("true".equals(authSession.getAuthNote(Attributes.AUTH_DONE))) {
            return; // loop guard: after success Keycloak re-evaluates triggers
        }
        ForeignNotes.drop(authSession); // Duo notes an IdP mapper wrote are no pass
        RealmSettings settings = RealmSettings.forLogin(context.getSession(), context.getRealm(), context.getUser(),
                context.getAuthenticationSession());
        ClientModel client = authSession.getClient();
        boolean brokered = BrokeredIdentity.loginIdp(authSession) != null;
        if (!settings.triggers(client == null ? null : client.getClientId(), brokered)) {
            return;
        }
        if (hasFreshPass(context, settings)) {
            return;
        }
        authSession.addRequiredAction(DuoStepUpRequiredActionFactory.PROVIDER_ID);
    }

    private static boolean hasFreshPass(RequiredActionContext context, RealmSettings settings) {
        if (!RealmSettings.REMEMBER_SESSION.equals(settings.remember)
                && !RealmSettings.REMEMBER_WINDOW.equals(settings.remember)) {
            return false;
        }
        AuthenticationSessionModel authSession = context.getAuthenticationSession();
        // The SSO session this login continues, as Keycloak's public context holds it (set
        // when the identity cookie was verified); a fresh login has none.
        UserSessionModel userSession = context.getSession().getContext().getUserSession();
        UserModel user = context.getUser();
        if (userSession == null || user == null || userSession.getUser() == null
                || !context.getRealm().getId().equals(userSession.getRealm().getId())
                || !user.getId().equals(userSession.getUser().getId())) {
            return false;
        }
        if (!VerdictNames.RESULT_ALLOW.equals(userSession.getNote(Attributes.NOTE_RESULT))) {
            return false;
        }
        long passed;
        try {
            passed = Long.parseLong(userSession.getNote(Attributes.NOTE_TIME));
        } catch (NumberFormatException e) {
            return false;
        }
        long age = StepUp.now() - passed;
        // OIDC max_age: an application asking for a recent sign-in gets a new Duo step too.
        String maxAge = authSession.getClientNote(MAX_AGE);
        if (maxAge != null) {
            try {
                if (age > Long.parseLong(maxAge)) {
                    return false;
                }
            } catch (NumberFormatException e) {
                return false;
            }
        }
        return RealmSettings.REMEMBER_SESSION.equals(settings.remember) || age <= settings.rememberSeconds;
    }

    @Override
    public void requiredActionChallenge(RequiredActionContext context) {
        StepUp.start(StepUpContext.of(context), RealmSettings.forLogin(context.getSession(), context.getRealm(), context.getUser(),
                context.getAuthenticationSession()));
    }

    @Override
    public void processAction(RequiredActionContext context) {
        StepUp.finish(StepUpContext.of(context), RealmSettings.forLogin(context.getSession(), context.getRealm(), context.getUser(),
                context.getAuthenticationSession()));
    }

    @Override
    public void close() {
        // Stateless.
    }
}
