package org.keycloakduobridge;

import org.keycloak.authentication.AuthenticationFlowContext;
import org.keycloak.authentication.Authenticator;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.RealmModel;
import org.keycloak.models.UserModel;

/**
 * The {@code duo-step-up-authenticator}: the "step-up" mode, Duo as a step of a browser flow,
 * typically the level-2 sub-flow under Keycloak's "Condition - Level of Authentication", so
 * that Duo counts towards {@code acr} and {@code amr} and applications ask for it with
 * {@code acr_values}, an essential {@code acr} claim, or a client's minimum ACR.
 *
 * <p>The same step as the required action ({@link StepUp}): the same request token, verdict
 * and bridge, and so the same policy (bypass groups, opt-in, fail mode, application mode),
 * resolved by the bridge. Whether the level's earlier pass still holds is the flow's
 * condition's to decide (its max age); reaching this step always asks the bridge.
 */
public final class DuoStepUpAuthenticator implements Authenticator {

    @Override
    public void authenticate(AuthenticationFlowContext context) {
        StepUp.start(StepUpContext.of(context), RealmSettings.forLogin(context.getSession(), context.getRealm(), context.getUser(),
                context.getAuthenticationSession()));
    }

    @Override
    public void action(AuthenticationFlowContext context) {
        StepUp.finish(StepUpContext.of(context), RealmSettings.forLogin(context.getSession(), context.getRealm(), context.getUser(),
                context.getAuthenticationSession()));
    }

    @Override
    public boolean requiresUser() {
        return true;
    }

    @Override
    public boolean configuredFor(KeycloakSession session, RealmModel realm, UserModel user) {
        return true; // whether this user needs Duo is the bridge's call, made at every step
    }

    @Override
    public void setRequiredActions(KeycloakSession session, RealmModel realm, UserModel user) {
        // Enrolment happens in Duo's own prompt.
    }

    @Override
    public void close() {
        // Stateless.
    }
}
