package org.keycloakduobridge;

import org.keycloak.Config;
import org.keycloak.authentication.RequiredActionFactory;
import org.keycloak.authentication.RequiredActionProvider;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.KeycloakSessionFactory;

/**
 * Registers the {@code duo-step-up} required action with Keycloak.
 *
 * <p>Keycloak's own classes only: the jar bundles no third-party library.
 */
public final class DuoStepUpRequiredActionFactory implements RequiredActionFactory {

    /** The provider id, also the alias under which realms register the action. */
    public static final String PROVIDER_ID = "duo-step-up";

    private static final DuoStepUpRequiredAction SINGLETON = new DuoStepUpRequiredAction();

    @Override
    public String getId() {
        return PROVIDER_ID;
    }

    @Override
    public String getDisplayText() {
        return "Duo two-factor step-up";
    }

    @Override
    public RequiredActionProvider create(KeycloakSession session) {
        return SINGLETON;
    }

    @Override
    public void init(Config.Scope config) {
        // No server-wide options: everything is per realm, in realm attributes.
    }

    @Override
    public void postInit(KeycloakSessionFactory factory) {
        // Nothing to wire.
    }

    @Override
    public void close() {
        // Stateless.
    }
}
