package org.keycloakduobridge;

import jakarta.ws.rs.core.Response;
import org.keycloak.authentication.RequiredActionContext;
import org.keycloak.authentication.RequiredActionProvider;
import org.keycloak.events.Errors;

/**
 * The {@code duo-step-up} required action.
 *
 * <p>Skeleton stage: the action is registered and loadable, but it never adds itself to a
 * login ({@link #evaluateTriggers} is empty) and, if an administrator attaches it by hand,
 * it fails closed: no login passes through an unconfigured second factor.
 */
public final class DuoStepUpRequiredAction implements RequiredActionProvider {

    @Override
    public void evaluateTriggers(RequiredActionContext context) {
        // The trigger policy (realm switch, per-application mode) arrives with the step-up flow.
    }

    @Override
    public void requiredActionChallenge(RequiredActionContext context) {
        refuse(context);
    }

    @Override
    public void processAction(RequiredActionContext context) {
        refuse(context);
    }

    private static void refuse(RequiredActionContext context) {
        context.getEvent().error(Errors.INVALID_REQUEST);
        Response page = context.form()
                .setError("Duo two-factor is not available for this realm yet.")
                .createErrorPage(Response.Status.SERVICE_UNAVAILABLE);
        context.challenge(page);
    }

    @Override
    public void close() {
        // Stateless.
    }
}
